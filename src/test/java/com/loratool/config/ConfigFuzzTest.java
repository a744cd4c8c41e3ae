package com.loratool.config;

import com.code_intelligence.jazzer.junit.FuzzTest;
import com.loratool.FuzzFiles;
import java.util.List;

/**
 * Fuzzes YAML run config loading (docs/DEVELOPING.md, "Fuzzing"). In `mvn verify` it replays
 * src/test/resources/com/loratool/config/ConfigFuzzTestInputs; scripts/fuzz.sh ConfigFuzzTest fuzzes it.
 */
public class ConfigFuzzTest {
    /** libFuzzer entry point, for scripts/fuzz.sh (the Jazzer command line). */
    public static void fuzzerTestOneInput(byte[] data) {
        FuzzFiles.check(data, "input.yaml", f -> ConfigLoader.load(f, List.of()));
    }

    @FuzzTest(maxDuration = "10m")
    void fuzz(byte[] data) {
        fuzzerTestOneInput(data);
    }
}
