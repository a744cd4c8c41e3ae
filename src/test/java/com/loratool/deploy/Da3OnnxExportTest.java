package com.loratool.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.loratool.LoraException;
import com.loratool.io.HostTensor;
import com.loratool.model.Da3Checkpoint;
import com.loratool.model.ModelConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Depth Anything 3 as ONNX (built at library level from the tiny DA3 fixtures; the commands: cli.Da3ExportCommandTest
 * ): the certificate compares both graph outputs, depth and sky, in ONNX Runtime
 * with the toolkit's forward (which matches the official code to ~1e-6, model.Da3ParityTest).
 */
class Da3OnnxExportTest {
    static final Path FIX = OnnxExportTest.FIX;

    @TempDir
    Path dir;

    static OnnxDeployment.Source source(String fixture) {
        Path weights = FIX.resolve(fixture).resolve("model.safetensors");
        Da3Checkpoint ck = Da3Checkpoint.read(weights);
        return new OnnxDeployment.Source(ck.config(), ck.stateDict(), weights, "test", "");
    }

    static void assertDa3Parity(ParityCertificate c, int sizes) {
        OnnxExportTest.assertParity(c);
        assertEquals(2 * sizes, c.checks().size(), c.checks().toString());
        assertEquals(sizes, c.checks().stream().filter(k -> k.output().equals("sky")).count());
        for (ParityCertificate.Check k : c.checks()) {
            assertTrue(k.relL2() <= c.tolerance(), k.toString());
        }
    }

    @Test
    void monoFixedAndDynamicCertifyDepthAndSky() {
        OnnxDeployment.Source s = source("da3-tiny-mono");
        assertEquals(ModelConfig.Family.DA3MONO, s.config().family());
        assertDa3Parity(OnnxExportTest.certify(s, new OnnxOptions(98, 154, false, 17, false)), 1);
        assertDa3Parity(OnnxExportTest.certify(s, new OnnxOptions(56, 84, true, 17, false)), 3);
    }

    @Test
    void metricAndFp16Certify() {
        OnnxDeployment.Source s = source("da3-tiny-metric");
        assertEquals(ModelConfig.Family.DA3METRIC, s.config().family());
        assertDa3Parity(OnnxExportTest.certify(s, new OnnxOptions(98, 154, true, 17, false)), 3);
        assertDa3Parity(OnnxExportTest.certify(source("da3-tiny-mono"), new OnnxOptions(70, 98, false, 17, true)), 1);
    }

    @Test
    void theFileHasTwoOutputsAndTheOnnxPredictorRefusesIt() throws Exception {
        OnnxDeployment.Source s = source("da3-tiny-mono");
        OnnxOptions o = new OnnxOptions(56, 84, true, 17, false);
        Path out = dir.resolve("da3.onnx");
        Map<String, String> meta = OnnxDeployment.metadata(s, o, 504);
        ParityCertificate c = OnnxDeployment.export(s, o, meta, out, null);
        assertTrue(c.passed());
        String json = Files.readString(OnnxDeployment.certificatePath(out));
        assertTrue(json.contains("\"output\" : \"sky\""), json);
        try (OnnxRuntimeModel m = OnnxRuntimeModel.open(out, 1)) {
            assertTrue(m.hasSky());
            assertEquals("relative_depth", m.metadata().get("output_unit"));
            assertTrue(m.metadata().get("model").startsWith("Depth Anything 3 da3mono"), m.metadata().toString());
            float[] x = new float[3 * 56 * 84];
            float[][] ds = m.runWithSky(x, 1, 56, 84);
            assertEquals(56 * 84, ds[0].length);
            assertEquals(56 * 84, ds[1].length);
            assertEquals(List.of(ds[0].length), List.of(m.run(x, 1, 56, 84).length));
        }
        LoraException e = assertThrows(LoraException.class, () -> OnnxPredictor.open(out, null, 1));
        assertTrue(e.getMessage().contains("is a Depth Anything 3 graph (outputs depth and sky)"), e.getMessage());
        assertFalse(e.getMessage().contains("\n"));
        // a V2 graph has no sky output
        OnnxDeployment.Source v2 = OnnxExportTest.tiny();
        try (OnnxRuntimeModel m = OnnxRuntimeModel.open(Path.of("v2.onnx"),
                OnnxExport.export(v2.config(), v2.stateDict(), new OnnxOptions(56, 56, false, 17, false), Map.of()), 1)) {
            assertFalse(m.hasSky());
            assertThrows(LoraException.class, () -> m.runWithSky(new float[3 * 56 * 56], 1, 56, 56));
        }
    }

    @Test
    void aWrongSkyConstantFailsTheCertificate() {
        OnnxDeployment.Source s = source("da3-tiny-mono");
        LinkedHashMap<String, HostTensor> wrong = new LinkedHashMap<>(s.stateDict());
        String key = "model.head.scratch.sky_output_conv2.2.bias";
        float[] b = wrong.get(key).data().clone();
        b[0] += 0.5f; // only the sky changes: the depth checks pass, the sky's fails
        wrong.put(key, new HostTensor(wrong.get(key).shape(), b));
        OnnxOptions o = new OnnxOptions(56, 56, false, 17, false);
        Path out = dir.resolve("m.onnx");
        LoraException e = assertThrows(LoraException.class,
                () -> OnnxDeployment.export(s, o, Map.of(), out, null, wrong));
        assertTrue(e.getMessage().contains("parity check failed") && e.getMessage().contains("(output sky)"),
                e.getMessage());
        assertFalse(Files.exists(out));
    }
}
