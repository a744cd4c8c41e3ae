package com.loratool.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.loratool.deploy.OnnxRuntimeModel;
import com.loratool.io.Checksums;
import com.loratool.io.Npy;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** lora export --format onnx and predict --onnx on the tiny fixture, with adapters (qkv, proj, a head conv). */
class OnnxCommandTest {
    static final Path FIX = Path.of(System.getProperty("fixtures.dir", "fixtures"), "da2-tiny");
    static final String YAML = FIX.resolve("model.yaml").toString();
    static final String IMAGE = FIX.resolve("image.png").toString();

    @Test
    void exportedCheckpointPredictsAsTheCheckpoint(@TempDir Path dir) throws Exception {
        Path ck = ExportImportCommandTest.checkpoint(dir, ExportImportCommandTest.WEIGHTS,
                Checksums.sha256(ExportImportCommandTest.WEIGHTS));
        Path onnx = dir.resolve("m.onnx");
        StringWriter err = new StringWriter();
        assertEquals(0, ExportImportCommandTest.run(err, "export", "--format", "onnx", "--checkpoint", ck.toString(),
                "--model-config", YAML, "--dynamic", "--input-size", "70", "--output", onnx.toString()), err.toString());
        JsonNode cert = new ObjectMapper().readTree(OnnxCommandTestFiles.read(dir.resolve("m.onnx.json")));
        assertTrue(cert.get("passed").asBoolean());
        assertEquals(3, cert.get("sizes_checked").size());
        assertTrue(cert.get("rel_l2").asDouble() < 1e-4, cert.toString());
        try (OnnxRuntimeModel m = OnnxRuntimeModel.open(onnx, 1)) {
            Map<String, String> meta = m.metadata();
            assertEquals(Checksums.sha256(ExportImportCommandTest.WEIGHTS), meta.get("base_sha256"));
            assertEquals("relative_disparity", meta.get("output_unit"));
            assertEquals("0.485,0.456,0.406", meta.get("mean"));
            assertEquals("70", meta.get("input_size"));
            assertTrue(meta.get("adapter_config").contains("pretrained.blocks.0.attn.qkv"), meta.get("adapter_config"));
            assertTrue(meta.get("toolkit_version").startsWith("lora "));
            assertEquals(null, m.fixedSize());
        }
        Path a = dir.resolve("a");
        Path b = dir.resolve("b");
        assertEquals(0, ExportImportCommandTest.run(err, "predict", "--onnx", onnx.toString(), "--input", IMAGE,
                "--output", a.toString()), err.toString());
        assertEquals(0, ExportImportCommandTest.run(err, "predict", "--checkpoint", ck.toString(), "--model-config", YAML,
                "--input", IMAGE, "--input-size", "70", "--output", b.toString()), err.toString());
        float[] x = Npy.read(a.resolve("image.npy")).data();
        float[] y = Npy.read(b.resolve("image.npy")).data();
        assertEquals(y.length, x.length);
        double num = 0;
        double den = 0;
        for (int i = 0; i < x.length; i++) {
            num += (x[i] - y[i]) * (double) (x[i] - y[i]);
            den += y[i] * (double) y[i];
        }
        assertTrue(Math.sqrt(num / den) < 1e-4, "rel L2 " + Math.sqrt(num / den));
        assertEquals(Arrays.asList(OnnxCommandTestFiles.names(b)), Arrays.asList(OnnxCommandTestFiles.names(a)));
    }

    @Test
    void badInputsAreOneLineAndWriteNothing(@TempDir Path dir) throws Exception {
        String w = ExportImportCommandTest.WEIGHTS.toString();
        Path out = dir.resolve("m.onnx");
        StringWriter err = new StringWriter();
        assertEquals(2, ExportImportCommandTest.run(err, "export", "--format", "onnx", "--weights", w, "--model-config",
                YAML, "--input-size", "75", "--output", out.toString()));
        assertTrue(err.toString().contains("--input-size 75: must be a multiple of the patch size 14"), err.toString());
        err = new StringWriter();
        assertEquals(2, ExportImportCommandTest.run(err, "export", "--format", "onnx", "--weights", w, "--model-config",
                YAML, "--opset", "11", "--output", out.toString()));
        assertTrue(err.toString().contains("--opset 11"), err.toString());
        err = new StringWriter();
        Path missing = dir.resolve("nope/m.onnx");
        assertEquals(2, ExportImportCommandTest.run(err, "export", "--format", "onnx", "--weights", w, "--model-config",
                YAML, "--input-size", "70", "--output", missing.toString()));
        assertTrue(err.toString().contains("does not exist"), err.toString());
        err = new StringWriter();
        assertEquals(2, ExportImportCommandTest.run(err, "export", "--format", "onnx", "--weights",
                FIX.resolve("weights-bf16.pth").toString(), "--model-config", YAML, "--fp16", "--input-size", "70",
                "--output", out.toString()));
        assertTrue(err.toString().contains("bfloat16"), err.toString());
        // a checkpoint whose base weights changed since training (SHA-256)
        Path copy = dir.resolve("base/w.pth");
        Files.createDirectories(copy.getParent());
        Files.copy(ExportImportCommandTest.WEIGHTS, copy);
        Path ck = ExportImportCommandTest.checkpoint(dir.resolve("base"), copy, Checksums.sha256(copy));
        Files.write(copy, new byte[] {1}, StandardOpenOption.APPEND);
        err = new StringWriter();
        assertEquals(2, ExportImportCommandTest.run(err, "export", "--format", "onnx", "--checkpoint", ck.toString(),
                "--model-config", YAML, "--input-size", "70", "--output", out.toString()));
        assertTrue(err.toString().startsWith("error: " + copy + ": differs from the base weights"), err.toString());
        assertFalse(Files.exists(out));
        assertEquals(List.of("base"), List.of(OnnxCommandTestFiles.names(dir)));

        // predict --onnx: not ONNX, truncated, another interface
        Path junk = dir.resolve("junk.onnx");
        Files.writeString(junk, "not a model");
        err = new StringWriter();
        assertEquals(2, ExportImportCommandTest.run(err, "predict", "--onnx", junk.toString(), "--input", IMAGE,
                "--output", dir.resolve("p").toString()));
        assertTrue(err.toString().startsWith("error: " + junk + ": not a valid ONNX model"), err.toString());
        assertEquals(1, err.toString().strip().lines().count(), err.toString());
        assertEquals(0, ExportImportCommandTest.run(err, "export", "--format", "onnx", "--weights", w, "--model-config",
                YAML, "--input-size", "56", "--output", out.toString()));
        byte[] full = Files.readAllBytes(out);
        Path cut = dir.resolve("cut.onnx");
        Files.write(cut, Arrays.copyOf(full, full.length / 2));
        err = new StringWriter();
        assertEquals(2, ExportImportCommandTest.run(err, "predict", "--onnx", cut.toString(), "--input", IMAGE,
                "--output", dir.resolve("p").toString()));
        assertTrue(err.toString().startsWith("error: " + cut + ": not a valid ONNX model"), err.toString());
        assertFalse(Files.exists(dir.resolve("p")));
    }
}
