package com.loratool.train.optim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

class OptimTest {
    /**
     * p0 = 1, lr 0.1, betas (0.9, 0.999), eps 1e-8, gradients 0.5 then -0.25.
     * t=1: m = .05, v = .00025, p = 1 - (.1/.1) * .05 / (sqrt(.00025)/sqrt(.001)) = 1 - .05/.5 = 0.9
     * t=2: m = .045 - .025 = .02, v = .00024975 + .0000625 = .00031225,
     *      p = .9 - (.1/.19) * .02 / (sqrt(.00031225)/sqrt(.001999)) = .9 - .0266337 = 0.8733663
     */
    @Test
    void adamMatchesHandComputedSteps() {
        Adam adam = new Adam(false, 0.9, 0.999, 1e-8, 0);
        float[] p = {1f};
        adam.step(List.of(p), List.of(new float[] {0.5f}), 0.1);
        assertEquals(0.9, p[0], 1e-6);
        adam.step(List.of(p), List.of(new float[] {-0.25f}), 0.1);
        assertEquals(0.8733663, p[0], 2e-6);
        assertEquals(2, adam.stepCount());
    }

    @Test
    void adamWDecaysTheWeightsBeforeTheUpdate() {
        // p = 1 * (1 - 0.1 * 0.1) - 0.1 = 0.89
        Adam adamw = new Adam(true, 0.9, 0.999, 1e-8, 0.1);
        float[] p = {1f};
        adamw.step(List.of(p), List.of(new float[] {0.5f}), 0.1);
        assertEquals(0.89, p[0], 1e-6);
        // Adam's L2 adds wd * p to the gradient: g = 0.6, first step still moves by lr: 0.9
        Adam adam = new Adam(false, 0.9, 0.999, 1e-8, 0.1);
        float[] q = {1f};
        adam.step(List.of(q), List.of(new float[] {0.5f}), 0.1);
        assertEquals(0.9, q[0], 1e-6);
    }

    @Test
    void restoredStateContinuesIdentically() {
        Adam a = new Adam(false, 0.9, 0.999, 1e-8, 0);
        float[] p = {1f, -2f};
        a.step(List.of(p), List.of(new float[] {0.3f, -0.1f}), 0.01);
        Adam b = new Adam(false, 0.9, 0.999, 1e-8, 0);
        float[] q = p.clone();
        b.restore(a.stepCount(), a.firstMoments(), a.secondMoments());
        a.step(List.of(p), List.of(new float[] {0.2f, 0.4f}), 0.01);
        b.step(List.of(q), List.of(new float[] {0.2f, 0.4f}), 0.01);
        assertArrayEquals(p, q);
    }

    @Test
    void clippingScalesToTheGlobalNorm() {
        float[] g1 = {3f};
        float[] g2 = {4f};
        double norm = GradClip.clip(List.of(g1, g2), 1.0); // norm 5 -> scale 1/(5+1e-6)
        assertEquals(5.0, norm, 1e-9);
        assertEquals(0.6, g1[0], 1e-6);
        assertEquals(0.8, g2[0], 1e-6);
        float[] small = {0.1f};
        GradClip.clip(List.of(small), 1.0);
        assertEquals(0.1f, small[0]);
    }

    @Test
    void warmupThenCosine() {
        LrSchedule s = new LrSchedule(1.0, "cosine", 2, 12, 0.0);
        assertEquals(0.5, s.at(0), 1e-12);
        assertEquals(1.0, s.at(1), 1e-12);
        assertEquals(1.0, s.at(2), 1e-12); // start of the cosine
        assertEquals(0.5 * (1 + Math.cos(Math.PI * 4 / 9)), s.at(6), 1e-12); // progress (6-2)/(12-2-1)
        assertEquals(0.0, s.at(11), 1e-12); // last step reaches min_lr
        LrSchedule c = new LrSchedule(0.3, "constant", 0, 10, 0);
        assertEquals(0.3, c.at(7), 1e-12);
    }
}
