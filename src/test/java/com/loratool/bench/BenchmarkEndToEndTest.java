package com.loratool.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.loratool.cli.Main;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** `lora benchmark` on the tiny architecture (configs/smoke.yaml, random weights): the real model, adapters and trainer. */
class BenchmarkEndToEndTest {
    @TempDir
    Path out;

    @Test
    void tinyGridWritesAllResultsWithRealTrainingSteps() throws Exception {
        CommandLine cl = Main.commandLine();
        StringWriter err = new StringWriter();
        cl.setErr(new PrintWriter(err));
        PrintStream oldErr = System.err;
        ByteArrayOutputStream progress = new ByteArrayOutputStream();
        System.setErr(new PrintStream(progress, true));
        int rc;
        try {
            rc = cl.execute("benchmark", "--config", "configs/smoke.yaml", "--synthetic", "--device", "cpu", "--threads", "1",
                "--grid", "images=3; batch=2; size=28x42; targets=qkv|linear", "--epochs", "10", "--measure-epochs", "2",
                "--output", out.toString());
        } finally {
            System.setErr(oldErr);
        }
        assertEquals(0, rc, err.toString());
        for (String f : ResultWriters.FILES) {
            assertTrue(Files.size(out.resolve(f)) > 0, f);
        }
        JsonNode root = new ObjectMapper().readTree(out.resolve("results.json").toFile());
        JsonNode rs = root.get("results");
        assertEquals(2, rs.size());
        JsonNode qkv = rs.get(0);
        JsonNode linear = rs.get(1);
        assertEquals("config", qkv.get("arch").asText());
        assertEquals(28, qkv.get("height").asInt());
        assertEquals(42, qkv.get("width").asInt());
        assertEquals(2, qkv.get("epoch_s_all").size(), "the warm-up epoch is not reported");
        assertTrue(qkv.get("epoch_s").asDouble() > 0);
        assertEquals(10 * qkv.get("epoch_s").asDouble(), qkv.get("time_s").asDouble(), 0.02);
        assertTrue(qkv.get("time_projected").asBoolean());
        assertTrue(qkv.get("infer_images_per_s").asDouble() > 0);
        // smoke.yaml: r = 4, plus the head's conv adapters in both; tiny encoder (dim 48, 4 blocks, mlp 192):
        // linear adds proj 4(48+48) + fc1 4(48+192) + fc2 4(192+48) = 2304 per block over qkv alone -> 9216
        assertEquals(9216, linear.get("trainable_params").asLong() - qkv.get("trainable_params").asLong());
        String md = Files.readString(out.resolve("results.md"));
        assertTrue(md.contains("| 10 | 2 | 28x42 | 3 | qkv | "), md);
        assertTrue(md.contains("(projected)"), md);
        assertEquals(2, progress.toString().lines().filter(l -> l.startsWith("[")).count(), progress.toString());
    }
}
