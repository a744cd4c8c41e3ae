package com.loratool.io;

import com.code_intelligence.jazzer.junit.FuzzTest;
import com.loratool.FuzzFiles;

/**
 * Fuzzes the safetensors reader (docs/DEVELOPING.md, "Fuzzing"). In `mvn verify` it replays
 * src/test/resources/com/loratool/io/SafetensorsFuzzTestInputs; scripts/fuzz.sh SafetensorsFuzzTest fuzzes it.
 */
public class SafetensorsFuzzTest {
    /** libFuzzer entry point, for scripts/fuzz.sh (the Jazzer command line). */
    public static void fuzzerTestOneInput(byte[] data) {
        FuzzFiles.check(data, "input.safetensors", f -> Safetensors.readWithMetadata(f));
    }

    @FuzzTest(maxDuration = "10m")
    void fuzz(byte[] data) {
        fuzzerTestOneInput(data);
    }
}
