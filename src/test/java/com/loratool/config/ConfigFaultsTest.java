package com.loratool.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.loratool.LoraException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Issue 14, part 6: integer keys bind exactly, and section errors name the config file. */
class ConfigFaultsTest {
    @TempDir
    Path dir;

    Path write(String text) throws Exception {
        Path f = dir.resolve("c.yaml");
        Files.writeString(f, text);
        return f;
    }

    static final String BASE = """
            model:
              weights: w.pth
              preset: vits
            data:
              root: data-samples
            lora:
              r: 4
              targets: [qkv]
            """;

    private String error(List<String> sets) throws Exception {
        Path f = write(BASE);
        return assertThrows(LoraException.class, () -> ConfigLoader.load(f, sets)).getMessage();
    }

    @Test
    void fractionalEpochsAreRefusedNotTruncated() throws Exception {
        assertEquals("--set train.epochs=1.5: train.epochs: expected an integer, got 1.5", error(List.of("train.epochs=1.5")));
    }

    @Test
    void integerOutOfRangeNamesTheKey() throws Exception {
        assertEquals("--set lora.r=1e10: lora.r: 10000000000 is out of range (at most 2147483647)",
                error(List.of("lora.r=1e10")));
        assertEquals("--set lora.r=10000000000: lora.r: 10000000000 is out of range (at most 2147483647)",
                error(List.of("lora.r=10000000000")));
    }

    @Test
    void wholeNumberWrittenAsFloatIsStillAnInteger() throws Exception {
        // 2.0 is exactly an integer: accepted (only fractions and out-of-range values are refused)
        RunConfig c = ConfigLoader.load(write(BASE), List.of("train.epochs=2.0"));
        assertEquals(2, c.train.epochs());
    }

    @Test
    void intOutOfRangeInTheFileNamesFileAndKey() throws Exception {
        Path f = write(BASE.replace("r: 4", "r: 99999999999"));
        String m = assertThrows(LoraException.class, () -> ConfigLoader.load(f, List.of())).getMessage();
        assertEquals(f + ":7: lora.r: 99999999999 is out of range (at most 2147483647)", m);
    }

    @Test
    void missingDataRootNamesTheConfigFile() throws Exception {
        Path f = write(BASE.replace("  root: data-samples\n", "  scale: 10\n"));
        String m = assertThrows(LoraException.class, () -> ConfigLoader.load(f, List.of())).getMessage();
        assertTrue(m.startsWith(f + ": data.root: missing"), m);
    }

    @Test
    void unknownTargetNamesTheConfigFile() throws Exception {
        Path f = write(BASE.replace("[qkv]", "[qvk]"));
        String m = assertThrows(LoraException.class, () -> ConfigLoader.load(f, List.of())).getMessage();
        assertTrue(m.startsWith(f + ":8: lora.targets: unknown target 'qvk', did you mean qkv?"), m);
    }

    @Test
    void badRegexTargetNamesTheConfigFile() throws Exception {
        Path f = write(BASE.replace("[qkv]", "['re:(']"));
        String m = assertThrows(LoraException.class, () -> ConfigLoader.load(f, List.of())).getMessage();
        assertTrue(m.startsWith(f + ":8: lora.targets: bad regular expression re:("), m);
    }
}
