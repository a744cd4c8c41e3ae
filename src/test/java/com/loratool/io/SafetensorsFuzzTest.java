package com.loratool.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.FuzzTest;
import com.loratool.FuzzFiles;
import com.loratool.LoraException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Fuzzes the safetensors reader (docs/DEVELOPING.md, "Fuzzing"). In `mvn verify` it replays
 * src/test/resources/com/loratool/io/SafetensorsFuzzTestInputs; scripts/fuzz.sh SafetensorsFuzzTest fuzzes it.
 * The seeds start the fuzzer at each header rule (docs/reliability.md): {@code bad-*} files break one
 * rule each (overlap, gap, start not 0, trailing data, past the end, dtype x shape, begin after end,
 * a name twice) and must be refused; {@code ok-*} and the others must be read.
 */
public class SafetensorsFuzzTest {
    private static final Path SEEDS = Path.of("src/test/resources/com/loratool/io/SafetensorsFuzzTestInputs/fuzz");

    /** libFuzzer entry point, for scripts/fuzz.sh (the Jazzer command line). */
    public static void fuzzerTestOneInput(byte[] data) {
        FuzzFiles.check(data, "input.safetensors", f -> Safetensors.readWithMetadata(f));
    }

    @FuzzTest(maxDuration = "10m")
    void fuzz(byte[] data) {
        fuzzerTestOneInput(data);
    }

    private static List<Path> seeds() throws IOException {
        try (Stream<Path> s = Files.list(SEEDS)) {
            return s.sorted().toList();
        }
    }

    @Test
    void everyBadSeedIsRefusedInOneLineAndEveryOtherSeedIsRead() throws IOException {
        List<Path> seeds = seeds();
        assertEquals(8, seeds.stream().filter(p -> p.getFileName().toString().startsWith("bad-")).count(), seeds.toString());
        for (Path seed : seeds) {
            if (seed.getFileName().toString().startsWith("bad-")) {
                String m = assertThrows(LoraException.class, () -> Safetensors.readWithMetadata(seed), seed.toString())
                        .getMessage();
                assertTrue(m.startsWith(seed + ": "), m);
                assertFalse(m.contains("\n"), m);
            } else {
                assertFalse(Safetensors.readWithMetadata(seed).tensors().isEmpty(), seed.toString());
            }
        }
    }
}
