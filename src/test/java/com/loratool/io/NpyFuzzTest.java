package com.loratool.io;

import com.code_intelligence.jazzer.junit.FuzzTest;
import com.loratool.FuzzFiles;

/**
 * Fuzzes the .npy reader (docs/DEVELOPING.md, "Fuzzing"). In `mvn verify` it replays
 * src/test/resources/com/loratool/io/NpyFuzzTestInputs; scripts/fuzz.sh NpyFuzzTest fuzzes it.
 */
public class NpyFuzzTest {
    /** libFuzzer entry point, for scripts/fuzz.sh (the Jazzer command line). */
    public static void fuzzerTestOneInput(byte[] data) {
        FuzzFiles.check(data, "input.npy", f -> Npy.read(f));
    }

    @FuzzTest(maxDuration = "10m")
    void fuzz(byte[] data) {
        fuzzerTestOneInput(data);
    }
}
