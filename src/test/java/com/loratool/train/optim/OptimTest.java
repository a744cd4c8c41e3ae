package com.loratool.train.optim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Adam, AdamW and clipping as tensor ops, against hand-computed steps. */
class OptimTest {
    static float[] step(Adam adam, NDManager m, NDArray p, float[] grad, double lr) {
        try (NDManager scratch = m.newSubManager()) {
            adam.step(List.of(p), scratch.create(grad), lr, scratch);
        }
        return p.toFloatArray();
    }

    /**
     * p0 = 1, lr 0.1, betas (0.9, 0.999), eps 1e-8, gradients 0.5 then -0.25.
     * t=1: m = .05, v = .00025, p = 1 - (.1/.1) * .05 / (sqrt(.00025)/sqrt(.001)) = 1 - .05/.5 = 0.9
     * t=2: m = .045 - .025 = .02, v = .00024975 + .0000625 = .00031225,
     *      p = .9 - (.1/.19) * .02 / (sqrt(.00031225)/sqrt(.001999)) = .9 - .0266337 = 0.8733663
     */
    @Test
    void adamMatchesHandComputedSteps() {
        try (NDManager m = NDManager.newBaseManager(); Adam adam = new Adam(false, 0.9, 0.999, 1e-8, 0, m, 1)) {
            NDArray p = m.create(new float[] {1f});
            assertEquals(0.9, step(adam, m, p, new float[] {0.5f}, 0.1)[0], 1e-6);
            assertEquals(0.8733663, step(adam, m, p, new float[] {-0.25f}, 0.1)[0], 2e-6);
            assertEquals(2, adam.stepCount());
        }
    }

    @Test
    void adamWDecaysTheWeightsBeforeTheUpdate() {
        try (NDManager m = NDManager.newBaseManager()) {
            // p = 1 * (1 - 0.1 * 0.1) - 0.1 = 0.89
            try (Adam adamw = new Adam(true, 0.9, 0.999, 1e-8, 0.1, m, 1)) {
                assertEquals(0.89, step(adamw, m, m.create(new float[] {1f}), new float[] {0.5f}, 0.1)[0], 1e-6);
            }
            // Adam's L2 adds wd * p to the gradient: g = 0.6, the first step still moves by lr: 0.9;
            // the second (g = 0.9 * 0.1 - 0.25 = -0.16): m = .06 * .9 - .016 = .038,
            // v = .00036 * .999 + .0000256 = .00038524, p = .9 - (.1/.19) * .038 / (sqrt(.00038524)/sqrt(.001999))
            try (Adam adam = new Adam(false, 0.9, 0.999, 1e-8, 0.1, m, 1)) {
                NDArray q = m.create(new float[] {1f});
                assertEquals(0.9, step(adam, m, q, new float[] {0.5f}, 0.1)[0], 1e-6);
                double expected = 0.9 - (0.1 / 0.19) * 0.038 / (Math.sqrt(0.00038524) / Math.sqrt(0.001999));
                assertEquals(expected, step(adam, m, q, new float[] {-0.25f}, 0.1)[0], 2e-6);
            }
        }
    }

    @Test
    void severalTensorsShareTheFlatState() {
        // the same first step on two tensors of different shapes as on each alone: p - lr * sign(g)
        try (NDManager m = NDManager.newBaseManager(); Adam adam = new Adam(false, 0.9, 0.999, 1e-8, 0, m, 6)) {
            NDArray a = m.create(new float[] {1, 2, 3, 4}, new Shape(2, 2));
            NDArray b = m.create(new float[] {5, 6}, new Shape(2, 1));
            try (NDManager s = m.newSubManager()) {
                adam.step(List.of(a, b), s.create(new float[] {1, -1, 2, -2, 3, -3}), 0.5, s);
            }
            assertArrayEquals(new float[] {0.5f, 2.5f, 2.5f, 4.5f}, a.toFloatArray(), 1e-6f);
            assertArrayEquals(new float[] {4.5f, 6.5f}, b.toFloatArray(), 1e-6f);
            assertEquals(new Shape(2, 1), b.getShape());
        }
    }

    @Test
    void restoredStateContinuesBitIdentically() {
        try (NDManager m = NDManager.newBaseManager();
                Adam a = new Adam(false, 0.9, 0.999, 1e-8, 0, m, 2);
                Adam b = new Adam(false, 0.9, 0.999, 1e-8, 0, m, 2)) {
            NDArray p = m.create(new float[] {1f, -2f});
            step(a, m, p, new float[] {0.3f, -0.1f}, 0.01);
            NDArray q = m.create(p.toFloatArray());
            b.restore(a.stepCount(), a.firstMoment().toFloatArray(), a.secondMoment().toFloatArray());
            assertArrayEquals(step(a, m, p, new float[] {0.2f, 0.4f}, 0.01), step(b, m, q, new float[] {0.2f, 0.4f}, 0.01));
        }
    }

    @Test
    void clippingScalesToTheGlobalNorm() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray g = m.create(new float[] {3f, 4f}); // norm 5 -> scale 1/(5+1e-6)
            NDArray squares = GradClip.squaredNorm(g);
            assertEquals(25f, squares.getFloat());
            GradClip.clip(g, squares, 1.0, m);
            assertArrayEquals(new float[] {0.6f, 0.8f}, g.toFloatArray(), 1e-6f);
            NDArray small = m.create(new float[] {0.1f});
            GradClip.clip(small, GradClip.squaredNorm(small), 1.0, m);
            assertEquals(0.1f, small.getFloat());
            NDArray off = m.create(new float[] {30f, 40f});
            GradClip.clip(off, GradClip.squaredNorm(off), 0, m);
            assertArrayEquals(new float[] {30f, 40f}, off.toFloatArray());
        }
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
