package com.loratool.train.loss;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.loratool.config.TrainSection;
import com.loratool.data.CameraIntrinsics;
import com.loratool.model.ModelConfig;
import org.junit.jupiter.api.Test;

/**
 * The da3metric loss: the official metric SiLog on metres = focal x output / 300, the focal
 * (fx + fy) / 2 of the camera scaled to the network's input, against values worked out by hand.
 */
class Da3MetricLossTest {
    /** A camera of 800 x 400 px with fx 600, fy 1200; the network sees 4 x 2: fx 3, fy 6, focal 4.5. */
    static final CameraIntrinsics K = new CameraIntrinsics(600, 1200, 399.5, 199.5, 800, 400);

    static double loss(float[] out, float[] zMm) {
        try (NDManager m = NDManager.newBaseManager()) {
            Shape s = new Shape(1, 2, 4);
            NDArray mask = m.ones(s);
            return new Da3MetricLoss(0.5, 0.001, K).compute(m.create(out, s), m.create(zMm, s), mask).getFloat();
        }
    }

    @Test
    void theFocalIsScaledToTheInput() {
        Da3MetricLoss l = new Da3MetricLoss(0.5, 0.001, K);
        assertEquals(4.5, l.focal(2, 4), 1e-9);
        assertEquals(9, l.focal(4, 8), 1e-9);
        // metres = 4.5 x output / 300 = 0.015 x output
        float[] m = l.metres(new float[] {200, 400}, 2, 4);
        assertEquals(3, m[0], 1e-5);
        assertEquals(6, m[1], 1e-5);
    }

    /**
     * Output o with 0.015 o = Z / 1000 everywhere: g = 0, L = sqrt(1e-12) = 1e-6 (the radicand's
     * floor). Output twice that: g = -ln 2 everywhere, L = sqrt(ln2^2 - 0.5 ln2^2) = ln2 / sqrt 2.
     * A max_depth does not apply: 50 m counts.
     */
    @Test
    void handComputed() {
        float[] z = {1000, 2000, 3000, 4000, 5000, 6000, 7000, 50000};
        float[] exact = new float[8];
        float[] twice = new float[8];
        for (int i = 0; i < 8; i++) {
            exact[i] = z[i] / 1000f / 0.015f;
            twice[i] = 2 * exact[i];
        }
        assertEquals(1e-6, loss(exact, z), 1e-7);
        assertEquals(Math.log(2) / Math.sqrt(2), loss(twice, z), 1e-5);
    }

    @Test
    void fromConfigNeedsTheIntrinsicsForDa3Metric() {
        ModelConfig metric = ModelConfig.preset("da3metric-large");
        TrainSection t = TrainSection.defaults().with("loss", "metric_silog");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> DepthLoss.fromConfig(t, metric));
        assertTrue(e.getMessage().contains("intrinsics"), e.getMessage());
        DepthLoss l = DepthLoss.fromConfig(t, metric, K);
        assertTrue(l instanceof Da3MetricLoss && l.metric());
        assertThrows(IllegalArgumentException.class, () -> DepthLoss.fromConfig(t.with("loss", "depth_ssi"), metric, K));
        assertThrows(IllegalArgumentException.class, () -> DepthLoss.fromConfig(t.with("loss", "ssi"), metric, K));
        // a V2 metric model keeps its loss (max_depth from the model)
        assertTrue(DepthLoss.fromConfig(t, ModelConfig.preset("vits-metric-indoor"), K) instanceof MetricSiLogLoss);
    }
}
