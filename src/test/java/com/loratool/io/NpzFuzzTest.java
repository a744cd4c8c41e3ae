package com.loratool.io;

import com.code_intelligence.jazzer.junit.FuzzTest;
import com.loratool.FuzzFiles;

/**
 * Fuzzes the .npz reader (zip directory + .npy) (docs/DEVELOPING.md, "Fuzzing"). In `mvn verify` it replays
 * src/test/resources/com/loratool/io/NpzFuzzTestInputs; scripts/fuzz.sh NpzFuzzTest fuzzes it.
 */
public class NpzFuzzTest {
    /** libFuzzer entry point, for scripts/fuzz.sh (the Jazzer command line). */
    public static void fuzzerTestOneInput(byte[] data) {
        FuzzFiles.check(data, "input.npz", f -> Npz.read(f));
    }

    @FuzzTest(maxDuration = "10m")
    void fuzz(byte[] data) {
        fuzzerTestOneInput(data);
    }
}
