package com.loratool.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.loratool.LoraException;
import com.loratool.io.HostTensor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The exported graph in ONNX Runtime against the toolkit's forward (which matches the official
 * model to ~1e-6, fixtures/): each case is a parity certificate at its tolerance.
 */
class OnnxExportTest {
    static final Path FIX = Path.of(System.getProperty("fixtures.dir", "fixtures"));
    static final Path TINY = FIX.resolve("da2-tiny/weights.pth");
    static final Path METRIC = FIX.resolve("da2-tiny-metric/weights.pth");

    @TempDir
    Path dir;

    static OnnxDeployment.Source tiny() {
        return OnnxDeployment.resolve(null, TINY, FIX.resolve("da2-tiny/model.yaml"));
    }

    static OnnxDeployment.Source metric() {
        return OnnxDeployment.resolve(null, METRIC, FIX.resolve("da2-tiny-metric/model.yaml"));
    }

    static ParityCertificate certify(OnnxDeployment.Source s, OnnxOptions o) {
        byte[] bytes = OnnxExport.export(s.config(), s.stateDict(), o, Map.of());
        try (OnnxRuntimeModel m = OnnxRuntimeModel.open(Path.of("test.onnx"), bytes, 2)) {
            return ParityCertificate.check(s.config(), s.stateDict(), m, o, OnnxDeployment.certificateImage(null), "fixture");
        }
    }

    static void assertParity(ParityCertificate c) {
        System.out.println(c.checks());
        assertTrue(c.passed(), "rel L2 " + c.relL2() + " above " + c.tolerance() + ": " + c.checks());
    }

    @Test
    void relativeFixedSizeMatchesTheToolkit() {
        assertParity(certify(tiny(), new OnnxOptions(70, 98, false, 17, false)));
    }

    @Test
    void relativeDynamicNonSquareAndBatchTwoMatch() {
        ParityCertificate c = certify(tiny(), new OnnxOptions(56, 84, true, 17, false));
        assertEquals(3, c.checks().size());
        assertEquals(2, c.checks().get(2).batch());
        assertParity(c);
    }

    @Test
    void metricDynamicMatchesIncludingTheOfficialGridSize() {
        // 518 x 518 is the pos-embed grid itself (37 x 37): the official early return, scale 1 in the graph
        OnnxDeployment.Source s = metric();
        assertTrue(s.config().isMetric());
        assertParity(certify(s, new OnnxOptions(518, 518, true, 17, false)));
    }

    @Test
    void fp16StaysWithinItsTolerance() {
        assertParity(certify(tiny(), new OnnxOptions(56, 84, true, 17, true)));
        assertParity(certify(metric(), new OnnxOptions(70, 70, false, 17, true)));
    }

    @Test
    void aWrongConstantFailsTheCertificateAndLeavesNoFile() {
        OnnxDeployment.Source s = tiny();
        LinkedHashMap<String, HostTensor> wrong = new LinkedHashMap<>(s.stateDict());
        String key = "pretrained.blocks.1.ls1.gamma";
        float[] g = wrong.get(key).data().clone();
        for (int i = 0; i < g.length; i++) {
            g[i] *= 1.02f; // 2% off in one LayerScale: far above 1e-4, and what a drifted graph looks like
        }
        wrong.put(key, new HostTensor(wrong.get(key).shape(), g));
        OnnxOptions o = new OnnxOptions(56, 56, false, 17, false);
        Path out = dir.resolve("m.onnx");
        LoraException e = assertThrows(LoraException.class,
                () -> OnnxDeployment.export(s, o, Map.of(), out, null, wrong));
        assertTrue(e.getMessage().contains("parity check failed"), e.getMessage());
        assertFalse(Files.exists(out));
        assertFalse(Files.exists(OnnxDeployment.certificatePath(out)));
        assertFalse(Files.exists(dir.resolve("m.onnx.tmp")));
        // the same export with the right weights passes and writes both files
        ParityCertificate c = OnnxDeployment.export(s, o, Map.of(), out, null);
        assertTrue(c.passed());
        assertTrue(Files.exists(out) && Files.exists(OnnxDeployment.certificatePath(out)));
    }

    @Test
    void badOptionsAreOneLine() {
        assertTrue(assertThrows(LoraException.class, () -> new OnnxOptions(518, 518, false, 13, false)).getMessage()
                .contains("--opset 13"));
        assertTrue(assertThrows(LoraException.class, () -> new OnnxOptions(75, 75, false, 17, false).checkPatch(14))
                .getMessage().contains("multiple of the patch size 14"));
    }

    @Test
    void halfPrecisionRoundsToNearestEven() {
        assertEquals(0x3c00, Half.fromFloat(1f));
        assertEquals((short) 0xc000, Half.fromFloat(-2f));
        assertEquals(0x7bff, Half.fromFloat(65504f));
        assertEquals(0x7c00, Half.fromFloat(65520f)); // rounds up to infinity
        assertEquals(0x0001, Half.fromFloat(5.9604645e-8f)); // smallest subnormal
        assertEquals(0x3c00, Half.fromFloat(1f + 1f / 2048)); // halfway: to even (1.0)
        assertEquals(0x3c02, Half.fromFloat(1f + 3f / 2048)); // halfway: to even (1 + 2/1024)
    }
}
