package com.loratool.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.loratool.LoraException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Strict configs (issue 21): a key once per mapping, every number in its range and finite, the
 * file a regular file of bounded size, and every message naming where the value came from: the
 * file and line, or the {@code --set key=value}.
 */
class StrictConfigTest {
    @TempDir
    Path dir;

    private static final String BASE = """
            model: {weights: random, preset: vits}
            data:
              root: data-samples
            lora:
              r: 4
              alpha: 8
              targets: [qkv]
            train:
              lr: 1.0e-3
            """;

    private Path write(String text) throws Exception {
        Path f = dir.resolve("run.yaml");
        Files.writeString(f, text);
        return f;
    }

    private String error(String text, String... sets) throws Exception {
        Path f = write(text);
        return assertThrows(LoraException.class, () -> ConfigLoader.load(f, List.of(sets))).getMessage();
    }

    @Test
    void aDuplicateKeyIsAnErrorNamingFileLineAndKey() throws Exception {
        String m = error(BASE + "  lr: 2.0e-3\n");
        assertEquals(dir.resolve("run.yaml") + ":10: train.lr: duplicate key (each key once; remove one of them)", m);
    }

    @Test
    void aSecondSectionBlockIsAnError() throws Exception {
        String m = error(BASE + "train:\n  epochs: 3\n");
        assertTrue(m.startsWith(dir.resolve("run.yaml") + ":10: train: duplicate key"), m);
    }

    @Test
    void aHugeRankIsRefusedNamingTheSet() throws Exception {
        assertEquals("--set lora.r=2147483647: lora.r: must be in [1, 8192], got 2147483647",
                error(BASE, "lora.r=2147483647"));
        assertEquals("--set lora.rank_pattern={qkv: 2147483647}: lora.rank_pattern.qkv: must be in [1, 8192], got 2147483647",
                error(BASE, "lora.rank_pattern={qkv: 2147483647}"));
    }

    @Test
    void infiniteAlphaInTheFileNamesFileLineAndAlpha() throws Exception {
        Path f = dir.resolve("run.yaml");
        for (String inf : List.of("Infinity", "1e999")) {
            assertEquals(f + ":6: lora.alpha: must be a finite number, got Infinity",
                    error(BASE.replace("alpha: 8", "alpha: " + inf)), inf);
        }
    }

    @Test
    void anErrorFromSetIsReportedAgainstTheSetNotTheFile() throws Exception {
        assertEquals("--set lora.alpha=Infinity: lora.alpha: must be a finite number, got Infinity",
                error(BASE, "lora.alpha=Infinity"));
        assertEquals("--set data.augment.rotate_degrees=90: data.augment.rotate_degrees: must be in [0, 45], got 90",
                error(BASE, "data.augment.rotate_degrees=90"));
        assertEquals("--set train.loss=ssl: train.loss: must be one of [ssi, silog, l1, mse, metric_silog, depth_ssi], got ssl"
                + " (did you mean ssi?)", error(BASE, "train.loss=ssl"));
    }

    @Test
    void notANumberIsRefusedWhereRangeChecksUsedToLetItThrough() throws Exception {
        Path f = dir.resolve("run.yaml");
        assertEquals(f + ":4: data.val_fraction: must be a finite number, got NaN",
                error(BASE.replace("  root: data-samples\n", "  root: data-samples\n  val_fraction: NaN\n")));
        assertEquals("--set data.augment.color_jitter=NaN: data.augment.color_jitter: must be a finite number, got NaN",
                error(BASE, "data.augment.color_jitter=NaN"));
        assertEquals("--set train.eps=Infinity: train.eps: must be a finite number, got Infinity",
                error(BASE, "train.eps=Infinity"));
        // YAML's own spelling is not a number to the parser: refused as well, naming the line
        assertEquals(f + ": not valid YAML: Malformed numeric value '.inf' (line 6)", error(BASE.replace("alpha: 8", "alpha: .inf")));
    }

    @Test
    void aDeviceOrFifoIsRefusedWithoutReadingIt() throws Exception {
        Path fifo = dir.resolve("fifo.yaml");
        Process p = new ProcessBuilder("mkfifo", fifo.toString()).start();
        assertEquals(0, p.waitFor());
        for (Path f : List.of(Path.of("/dev/zero"), fifo)) {
            String m = assertTimeoutPreemptively(Duration.ofSeconds(10),
                    () -> assertThrows(LoraException.class, () -> ConfigLoader.load(f, List.of())).getMessage());
            assertEquals(f + ": is a special file (FIFO, socket or device), not a regular file", m);
        }
    }

    @Test
    void aFileOverTheSizeBoundIsRefused() throws Exception {
        Path f = write(BASE + "#" + "x".repeat(ConfigLoader.MAX_BYTES) + "\n");
        assertEquals(f + ": larger than 1024 KiB; not a run config",
                assertThrows(LoraException.class, () -> ConfigLoader.load(f, List.of())).getMessage());
    }

    /**
     * A runs/<name>/config.yaml as the toolkit wrote it before the sections became records (every
     * key, nulls included): it still loads, and writing it again gives the same bytes.
     */
    @Test
    void aSavedRunConfigOfTheFormerFormatLoadsAndSavesIdentically() throws Exception {
        Path saved = Path.of("src/test/resources/com/loratool/config/saved-run-config.yaml");
        RunConfig c = ConfigLoader.load(saved, List.of());
        assertEquals(TrainSection.Loss.ssi, c.train.loss());
        assertEquals(10, c.data.scale());
        Path again = dir.resolve("again.yaml");
        ConfigLoader.save(c, again);
        assertEquals(Files.readString(saved), Files.readString(again));
    }

    @Test
    void everyShippedConfigStillLoads() throws Exception {
        try (var files = Files.list(Path.of("configs"))) {
            // tiny-model*.yaml are architecture files (model.config), not run configs
            for (Path f : files.filter(p -> p.toString().endsWith(".yaml")
                    && !p.getFileName().toString().startsWith("tiny-model")).toList()) {
                ConfigLoader.load(f, List.of());
            }
        }
    }
}
