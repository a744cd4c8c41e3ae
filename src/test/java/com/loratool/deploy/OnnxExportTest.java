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
}
