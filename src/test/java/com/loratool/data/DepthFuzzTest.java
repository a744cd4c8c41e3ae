package com.loratool.data;

import com.code_intelligence.jazzer.junit.FuzzTest;
import com.loratool.FuzzFiles;
import com.loratool.config.DataConfig;
import java.nio.file.Path;

/**
 * Fuzzes the depth reader (docs/DEVELOPING.md, "Fuzzing"): PNG / TIFF through OpenCV's decoder,
 * .npy and .npz through io, then the depth checks. The file is named by its first bytes (OpenCV
 * decodes by content). In `mvn verify` it replays
 * src/test/resources/com/loratool/data/DepthFuzzTestInputs; scripts/fuzz.sh DepthFuzzTest fuzzes it.
 */
public class DepthFuzzTest {
    private static final DataConfig CONFIG = DataConfig.defaults(Path.of("."));

    /** libFuzzer entry point, for scripts/fuzz.sh (the Jazzer command line). */
    public static void fuzzerTestOneInput(byte[] data) {
        String name = data.length >= 2 && (data[0] & 0xff) == 0x93 && data[1] == 'N' ? "input.npy"
                : data.length >= 2 && data[0] == 'P' && data[1] == 'K' ? "input.npz"
                : data.length >= 2 && (data[0] == 'I' || data[0] == 'M') ? "input.tif" : "input.png";
        FuzzFiles.check(data, name, f -> DepthReader.read(f, CONFIG));
    }

    @FuzzTest(maxDuration = "10m")
    void fuzz(byte[] data) {
        fuzzerTestOneInput(data);
    }
}
