package com.loratool.bench;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.loratool.LoraException;
import com.loratool.config.DataConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The benchmark's size comes from the typed data section: what a run config rejects, the benchmark rejects. */
class WorkloadsTest {
    @TempDir
    Path dir;

    Path config(String size) throws Exception {
        Path f = dir.resolve("c.yaml");
        Files.writeString(f, "model: {weights: random, preset: vits}\ndata: {root: x, size: " + size + "}\n");
        return f;
    }

    @Test
    void rejectsSizesTheRunConfigRejects() throws Exception {
        Path notMultiple = config("[90, 140]");
        LoraException e = assertThrows(LoraException.class, () -> Workloads.create(notMultiple, true, "cpu", 1));
        assertTrue(e.getMessage().contains("data.size: [90, 140] must be positive multiples of 14"), e.getMessage());
        Path text = config("84x140"); // the old raw-tree reader accepted this spelling
        e = assertThrows(LoraException.class, () -> Workloads.create(text, true, "cpu", 1));
        assertTrue(e.getMessage().contains("data.size"), e.getMessage());
    }

    @Test
    void sizeFromTheTypedSection() {
        BenchSettings base = BenchGrid.studyBaseline();
        DataConfig d = DataConfig.defaults(Path.of("x"));
        assertArrayEquals(new int[] {98, 140, 0}, Workloads.sizeOf(d.with("size", List.of(98, 140)), base));
        assertArrayEquals(new int[] {84, 140, 10}, Workloads.sizeOf(d.with("scale", 10), base));
        assertArrayEquals(new int[] {base.height(), base.width(), base.scale()}, Workloads.sizeOf(d, base));
    }
}
