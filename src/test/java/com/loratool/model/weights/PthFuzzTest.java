package com.loratool.model.weights;

import com.code_intelligence.jazzer.junit.FuzzTest;
import com.loratool.FuzzFiles;

/**
 * Fuzzes the torch .pth reader (zip + unpickler) (docs/DEVELOPING.md, "Fuzzing"). In `mvn verify` it replays
 * src/test/resources/com/loratool/model/weights/PthFuzzTestInputs; scripts/fuzz.sh PthFuzzTest fuzzes it.
 */
public class PthFuzzTest {
    /** libFuzzer entry point, for scripts/fuzz.sh (the Jazzer command line). */
    public static void fuzzerTestOneInput(byte[] data) {
        FuzzFiles.check(data, "input.pth", f -> PthReader.readWithDtypes(f));
    }

    @FuzzTest(maxDuration = "10m")
    void fuzz(byte[] data) {
        fuzzerTestOneInput(data);
    }
}
