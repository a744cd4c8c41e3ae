package com.loratool.train.loss;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import com.loratool.LoraException;
import com.loratool.config.LoraConfig;
import com.loratool.config.ModelSection;
import com.loratool.config.RunConfig;
import com.loratool.config.TrainSection;
import com.loratool.model.ModelConfig;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * depth_ssi, the da3mono loss: per image least-squares (s, t) with s p + t ~ Z on counted pixels,
 * then sum |s p + t - Z| / sum Z over the batch, against values worked out by hand; and the
 * loss/model-kind rule between Depth Anything V2 and 3.
 */
class DepthSsiLossTest {
    static NDManager m;

    @BeforeAll
    static void up() {
        m = NDManager.newBaseManager();
    }

    @AfterAll
    static void down() {
        m.close();
    }

    /** The loss and its gradient in p: {loss, dL/dp...}. */
    static float[] run(float[] p, float[] z, float[] mask, long... shape) {
        return LossGradient.of(m, new DepthSsiLoss(), p, z, mask, shape);
    }

    /**
     * One 1x5 image, p = [0, 0, 1, 1, 9], Z = [1, 3, 5, 7, 100] mm, the last pixel not counted:
     * s = 4, t = 2, fit [2, 2, 6, 6], |residuals| = [1, 1, 1, 1], sum Z = 16: L = 4 / 16 = 0.25.
     */
    @Test
    void handComputedOneImage() {
        float[] out = run(new float[] {0, 0, 1, 1, 9}, new float[] {1, 3, 5, 7, 100}, new float[] {1, 1, 1, 1, 0}, 1, 1, 5);
        assertEquals(0.25, out[0], 1e-6);
        assertEquals(0, out[5], 0); // no gradient through an uncounted pixel
        // invariant to the prediction's scale and shift (the output of exp is depth of arbitrary scale)
        float[] affine = run(new float[] {5, 5, 8, 8, -1}, new float[] {1, 3, 5, 7, 100}, new float[] {1, 1, 1, 1, 0}, 1, 1, 5);
        assertEquals(0.25, affine[0], 1e-6);
        // unit-free: Z in metres gives the same loss
        float[] metres = run(new float[] {0, 0, 1, 1, 9}, new float[] {1e-3f, 3e-3f, 5e-3f, 7e-3f, 0.1f},
                new float[] {1, 1, 1, 1, 0}, 1, 1, 5);
        assertEquals(0.25, metres[0], 1e-5);
    }

    /** An exact affine function of Z (on the counted pixels): loss 0. */
    @Test
    void exactAffineDepthIsZero() {
        float[] z = {1000, 1500, 2200, 3100};
        float[] p = new float[4];
        for (int i = 0; i < 4; i++) {
            p[i] = (z[i] - 100) / 50f;
        }
        assertEquals(0, run(p, z, new float[] {1, 1, 1, 1}, 1, 2, 2)[0], 1e-6);
    }

    /**
     * Two 1x4 images pooled over the batch. Image 1 as above (residuals 4, sum Z 16); image 2:
     * p = [0, 1, 2, 3], Z = [2, 2, 2, 2] (flat truth): s = 0, t = 2, residuals 0, sum Z 8.
     * L = (4 + 0) / (16 + 8) = 1/6 (per image it would be mean(0.25, 0) = 0.125).
     */
    @Test
    void pooledOverTheBatch() {
        float[] out = run(new float[] {0, 0, 1, 1, 0, 1, 2, 3}, new float[] {1, 3, 5, 7, 2, 2, 2, 2},
                new float[] {1, 1, 1, 1, 1, 1, 1, 1}, 2, 1, 4);
        assertEquals(1.0 / 6, out[0], 1e-6);
    }

    @Test
    void fromConfigAndTheKindRule() {
        ModelConfig mono = ModelConfig.preset("da3mono-large");
        ModelConfig metric = ModelConfig.preset("da3metric-large");
        ModelConfig vits = ModelConfig.preset("vits");
        TrainSection t = TrainSection.defaults().with("loss", "depth_ssi");
        DepthLoss l = DepthLoss.fromConfig(t, mono);
        assertTrue(l instanceof DepthSsiLoss && l.onDepth() && !l.metric());
        assertThrows(IllegalArgumentException.class, () -> DepthLoss.fromConfig(t, vits));
        assertThrows(IllegalArgumentException.class, () -> DepthLoss.fromConfig(t, null));
        assertThrows(IllegalArgumentException.class, () -> DepthLoss.fromConfig(t, metric));
        for (String v2 : new String[] {"ssi", "silog", "l1", "mse"}) {
            assertThrows(IllegalArgumentException.class, () -> DepthLoss.fromConfig(t.with("loss", v2), mono), v2);
            assertFalse(DepthLoss.fromConfig(t.with("loss", v2), vits).onDepth());
        }
    }

    /** RunConfig#checkLossFor: one line naming the loss, the model and the loss to use. */
    @Test
    void checkLossForRefusesTheOtherFamilysLosses() {
        ModelConfig mono = ModelConfig.preset("da3mono-large");
        for (String v2 : new String[] {"ssi", "silog", "l1", "mse", "metric_silog"}) {
            LoraException e = assertThrows(LoraException.class, () -> run(v2).checkLossFor(mono.lossKind(), "model.preset da3mono-large"));
            assertTrue(e.getMessage().contains("train.loss " + v2) && e.getMessage().contains("da3mono")
                    && e.getMessage().endsWith("use train.loss: depth_ssi") && !e.getMessage().contains("\n"), e.getMessage());
        }
        run("depth_ssi").checkLossFor(mono.lossKind(), "x");
        LoraException v2 = assertThrows(LoraException.class, () -> run("depth_ssi").checkLossFor(ModelConfig.preset("vits").lossKind(),
                "model.preset vits"));
        assertTrue(v2.getMessage().contains("depth_ssi is the Depth Anything 3 da3mono loss"), v2.getMessage());
        assertThrows(LoraException.class, () -> run("depth_ssi").checkLossFor(null, "the weights"));
        assertThrows(LoraException.class, () -> run("depth_ssi").checkLossFor(ModelConfig.preset("vits-metric-indoor").lossKind(), "m"));
        LoraException metric = assertThrows(LoraException.class, () -> run("depth_ssi").checkLossFor(
                ModelConfig.preset("da3metric-large").lossKind(), "model.preset da3metric-large"));
        assertTrue(metric.getMessage().endsWith("use train.loss: metric_silog"), metric.getMessage());
    }

    static RunConfig run(String loss) {
        return new RunConfig(ModelSection.of("tiny", null), null, LoraConfig.defaults(),
                TrainSection.defaults().with("loss", loss));
    }
}
