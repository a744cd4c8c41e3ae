package com.loratool.train.loss;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import com.loratool.config.TrainSection;
import com.loratool.model.ModelConfig;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The official metric SiLog, sqrt(mean(g^2) - 0.5 mean(g)^2), g = log T - log pred, T = Z/1000 m,
 * over the batch's pixels with min_depth &lt;= T &lt;= max_depth, against values worked out by hand.
 */
class MetricSiLogLossTest {
    static NDManager m;
    static final double LN2 = Math.log(2);

    @BeforeAll
    static void up() {
        m = NDManager.newBaseManager();
    }

    @AfterAll
    static void down() {
        m.close();
    }

    static float[] lossAndGradient(DepthLoss l, float[] p, float[] zMm, float[] mask, long... shape) {
        return LossGradient.of(m, l, p, zMm, mask, shape);
    }

    static final MetricSiLogLoss LOSS = new MetricSiLogLoss(0.5, 0.001, 8.0);

    /**
     * Two 1x3 images. Image 1: Z = 1000, 2000 mm, pred 1, 1 m; a third pixel not measured.
     * Image 2: Z = 4000 mm, pred 2 m; 50 000 mm (beyond max_depth 8 m) and 0.5 mm (below
     * min_depth 0.001 m) do not count. Valid g = [0, ln2, ln2]: pooled over the batch,
     * mean g = 2 ln2 / 3, mean g^2 = 2 ln2^2 / 3, L = ln2 sqrt(2/3 - 2/9) = 2 ln2 / 3.
     * (Per image it would be mean(ln2 sqrt(3/8), ln2 / sqrt 2) = 0.5513, not 0.4621.)
     */
    @Test
    void matchesHandComputedBatchPooledCase() {
        float[] z = {1000, 2000, 3000, 4000, 50000, 0.5f};
        float[] p = {1, 1, 7, 2, 0.3f, 5};
        float[] mask = {1, 1, 0, 1, 1, 1};
        float[] lg = lossAndGradient(LOSS, p, z, mask, 2, 1, 3);
        assertEquals(2 * LN2 / 3, lg[0], 1e-5);
        // pixels outside the valid set get no gradient
        assertEquals(0f, lg[3]);
        assertEquals(0f, lg[5]);
        assertEquals(0f, lg[6]);
    }

    /** Not scale invariant (lambda < 1): twice the true depth everywhere, g = -ln2, L = ln2 / sqrt 2. */
    @Test
    void aWrongScaleCosts() {
        float[] z = {1000, 2000, 4000, 3000};
        float[] exact = {1, 2, 4, 3};
        float[] twice = {2, 4, 8, 6};
        float[] all = {1, 1, 1, 1};
        assertEquals(0, lossAndGradient(LOSS, exact, z, all, 1, 2, 2)[0], 1e-5);
        assertEquals(LN2 / Math.sqrt(2), lossAndGradient(new MetricSiLogLoss(0.5, 0.001, 20), twice, z, all, 1, 2, 2)[0],
                1e-5);
    }

    /** A perfect prediction and a batch without valid pixels: finite value and gradient (the sqrt guard). */
    @Test
    void degenerateBatchesStayFinite() {
        float[] z = {1000, 2000, 4000, 3000};
        for (float[] mask : new float[][] {{1, 1, 1, 1}, {0, 0, 0, 0}}) {
            float[] lg = lossAndGradient(LOSS, new float[] {1, 2, 4, 3}, z, mask, 1, 2, 2);
            for (float v : lg) {
                assertTrue(Float.isFinite(v), "value or gradient " + v);
            }
        }
        float[] under = lossAndGradient(LOSS, new float[] {0, 2, 4, 3}, z, new float[] {1, 1, 1, 1}, 1, 2, 2);
        assertTrue(Float.isFinite(under[0]) && Float.isFinite(under[1]), "a zero prediction");
    }

    @Test
    void plainGradientStepsLowerIt() {
        float[] z = {1000, 2000, 4000, 8000, 1500, 3000, 6000, 7000};
        float[] mask = {1, 1, 1, 1, 1, 0, 1, 1};
        float[] p = {3, 0.5f, 1, 2, 6, 1, 0.7f, 4};
        float first = Float.NaN;
        float previous = Float.POSITIVE_INFINITY;
        for (int step = 0; step < 5; step++) {
            float[] lg = lossAndGradient(LOSS, p, z, mask, 2, 2, 2);
            assertTrue(lg[0] < previous, "step " + step + ": " + lg[0] + " after " + previous);
            first = step == 0 ? lg[0] : first;
            previous = lg[0];
            for (int i = 0; i < p.length; i++) {
                p[i] -= 0.5f * lg[i + 1];
            }
        }
        assertTrue(previous < 0.9 * first, first + " -> " + previous);
    }

    @Test
    void fromConfigPicksTheLossForTheModelKind() {
        ModelConfig metric = ModelConfig.preset("vits-metric-indoor");
        TrainSection t = TrainSection.defaults().with("loss", "metric_silog");
        DepthLoss l = DepthLoss.fromConfig(t, metric);
        assertTrue(l instanceof MetricSiLogLoss && l.metric());
        assertThrows(IllegalArgumentException.class, () -> DepthLoss.fromConfig(t, ModelConfig.preset("vits")));
        TrainSection relative = t.with("loss", "silog");
        assertFalse(DepthLoss.fromConfig(relative, ModelConfig.preset("vits")).metric());
        assertThrows(IllegalArgumentException.class, () -> DepthLoss.fromConfig(relative, metric));
    }
}
