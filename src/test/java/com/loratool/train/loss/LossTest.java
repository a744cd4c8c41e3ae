package com.loratool.train.loss;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Every loss against values worked out by hand (the derivations are in the comments).
 * Case A: one 1x4 image, Z = [1, 2, 4, 4] so 1/Z = [1, .5, .25, .25], mean .5, d = [2, 1, .5, .5];
 * prediction p = [1, 2, 3, 4]. Normal equations: n=4, sum p=10, sum p^2=30, sum d=4,
 * sum p d=7.5, det=20, s=(4*7.5-10*4)/20=-0.5, t=(30*4-10*7.5)/20=2.25,
 * aligned = [1.75, 1.25, 0.75, 0.25], residual = [-.25, .25, .25, -.25].
 */
class LossTest {
    static NDManager m;

    @BeforeAll
    static void up() {
        m = NDManager.newBaseManager();
    }

    @AfterAll
    static void down() {
        m.close();
    }

    static NDArray a(float[] v, long... shape) {
        return m.create(v, new Shape(shape));
    }

    static final float[] Z = {1, 2, 4, 4};
    static final float[] P = {1, 2, 3, 4};
    static final float[] ALL = {1, 1, 1, 1};

    static float loss(DepthLoss l, float[] p, float[] z, float[] mask, long... shape) {
        return l.compute(a(p, shape), a(z, shape), a(mask, shape)).getFloat();
    }

    @Test
    void ssiMatchesHandComputedCase() {
        assertEquals(0.25, loss(new SsiLoss(0, 1), P, Z, ALL, 1, 1, 4), 1e-5);
    }

    @Test
    void ssiIsInvariantToScaleAndShiftOfThePrediction() {
        float[] q = new float[4];
        for (int i = 0; i < 4; i++) {
            q[i] = 3.5f * P[i] - 7f;
        }
        assertEquals(0.25, loss(new SsiLoss(0, 1), q, Z, ALL, 1, 1, 4), 1e-5);
        float[] neg = {-0.01f * 1 + 100, -0.01f * 2 + 100, -0.01f * 3 + 100, -0.01f * 4 + 100};
        assertEquals(0.25, loss(new SsiLoss(0, 1), neg, Z, ALL, 1, 1, 4), 1e-3);
    }

    @Test
    void ssiIgnoresMaskedPixelsAndIsZeroForAnAffinePrediction() {
        // pred = 5 * (1/Z) + 1 on the counted pixels; the masked pixel is garbage (Z=-3, pred 1e6).
        float[] z = {1, 2, 4, -3};
        float[] p = {6, 3.5f, 2.25f, 1e6f};
        float[] mask = {1, 1, 1, 0};
        assertEquals(0.0, loss(new SsiLoss(0, 1), p, z, mask, 1, 1, 4), 1e-5);
    }

    @Test
    void ssiAveragesOverAllCountedPixelsOfTheBatch() {
        // image 0: case A (sum |R| = 1 over 4 pixels); image 1: affine (0 over 4 pixels) -> 1/8
        float[] p = {1, 2, 3, 4, 2, 4, 6, 8};
        float[] z = {1, 2, 4, 4, 1, 1, 1, 1}; // constant Z: any constant fit is exact
        float[] mask = {1, 1, 1, 1, 1, 1, 1, 1};
        assertEquals(0.125, loss(new SsiLoss(0, 1), p, z, mask, 2, 1, 4), 1e-5);
    }

    @Test
    void gradientMatchingTermMatchesHandComputedCase() {
        // 1x3 image, Z = [1, .5, 1]: 1/Z = [1, 2, 1], mean 4/3, d = [.75, 1.5, .75]; p = [0, 1, 3].
        // n=3, sum p=4, sum p^2=10, sum d=3, sum p d=3.75, det=14, s=-0.75/14, t=15/14.
        // aligned = [1.0714286, 1.0178571, 0.9107143]; R = [0.3214286, -0.4821429, 0.1607143]
        // L_ssi = 0.9642857/3 = 0.3214286; x-gradients |R1-R0| + |R2-R1| = 1.4464286, /3 = 0.4821429
        // L = 0.3214286 + 0.5 * 0.4821429 = 0.5625
        float[] z = {1, 0.5f, 1};
        float[] p = {0, 1, 3};
        float[] mask = {1, 1, 1};
        assertEquals(0.3214286, loss(new SsiLoss(0, 1), p, z, mask, 1, 1, 3), 1e-5);
        assertEquals(0.5625, loss(new SsiLoss(0.5, 1), p, z, mask, 1, 1, 3), 1e-5);
    }

    @Test
    void gradientMatchingUsesCoarserScales() {
        // 1x1x5 residual-only check: scale 1 samples pixels 0, 2, 4.
        NDArray r = a(new float[] {1, 0, 3, 0, 0}, 1, 1, 5);
        NDArray mask = a(new float[] {1, 1, 1, 1, 1}, 1, 1, 5);
        // scale 0: |0-1|+|3-0|+|0-3|+|0-0| = 7, /5 = 1.4; scale 1: [1,3,0] -> 2+3 = 5, /3
        assertEquals(1.4 + 5.0 / 3, SsiLoss.gradientMatching(r, mask, 2).getFloat(), 1e-5);
    }

    @Test
    void silogMatchesHandComputedCase() {
        // Case A: aligned a = [1.75, 1.25, .75, .25], d = [2, 1, .5, .5], g = log d - log a
        double[] g = {Math.log(2 / 1.75), Math.log(1 / 1.25), Math.log(.5 / .75), Math.log(.5 / .25)};
        double mean = 0;
        double mean2 = 0;
        for (double v : g) {
            mean += v / 4;
            mean2 += v * v / 4;
        }
        double expected = mean2 - 0.5 * mean * mean; // = 0.176894
        assertEquals(0.176894, expected, 1e-5);
        assertEquals(expected, loss(new SiLogLoss(0.5), P, Z, ALL, 1, 1, 4), 1e-5);
    }

    @Test
    void l1AndMseUseMinMaxNormalisedDisparity() {
        // 1/Z = [1, .5, .25, .25] -> (d - .25) / .75 = [1, 1/3, 0, 0]; p = [1, 0, .5, 0]
        // L1 = (0 + 1/3 + .5 + 0)/4 = 0.2083333; MSE = (0 + 1/9 + .25 + 0)/4 = 0.0902778
        float[] p = {1, 0, 0.5f, 0};
        assertEquals(0.2083333, loss(new NormalisedTargetLoss(false), p, Z, ALL, 1, 1, 4), 1e-5);
        assertEquals(0.0902778, loss(new NormalisedTargetLoss(true), p, Z, ALL, 1, 1, 4), 1e-5);
    }

    @Test
    void l1IgnoresMaskedPixels() {
        // counted: Z=[1, 2, 4] -> 1/Z=[1,.5,.25] -> n=[1, 1/3, 0]; p = n exactly; masked pixel off
        float[] p = {1, 1f / 3, 0, 50};
        float[] z = {1, 2, 4, 0.01f};
        float[] mask = {1, 1, 1, 0};
        assertEquals(0.0, loss(new NormalisedTargetLoss(false), p, z, mask, 1, 1, 4), 1e-6);
    }

    /** Loss and gradient at p (1 x 3 x 4 image, Z and mask fixed). */
    static float[] lossAndGradient(DepthLoss l, float[] p, float[] z, float[] mask) {
        return LossGradient.of(m, l, p, z, mask, 1, 3, 4);
    }

    @Test
    void everyLossFallsUnderPlainGradientSteps() {
        // 12 pixels, one masked; the prediction starts far from the target and out of order
        float[] z = {1, 2, 4, 8, 1.5f, 3, 6, 12, 2, 4, 8, 16};
        float[] mask = {1, 1, 1, 1, 1, 0, 1, 1, 1, 1, 1, 1};
        float[] start = {0.2f, 0.9f, 0.1f, 0.7f, 0.3f, 0.5f, 0.8f, 0.05f, 0.6f, 0.4f, 0.35f, 0.15f};
        DepthLoss[] losses = {new SsiLoss(0, 1), new SsiLoss(0.5, 2), new SiLogLoss(0.5),
            new NormalisedTargetLoss(false), new NormalisedTargetLoss(true)};
        String[] names = {"ssi", "ssi+grad", "silog", "l1", "mse"};
        float[] lr = {0.3f, 0.3f, 0.05f, 0.3f, 0.3f}; // silog's log terms curve more: a shorter step
        for (int k = 0; k < losses.length; k++) {
            float[] p = start.clone();
            float first = Float.NaN;
            float previous = Float.POSITIVE_INFINITY;
            for (int step = 0; step < 5; step++) {
                float[] lg = lossAndGradient(losses[k], p, z, mask);
                assertTrue(lg[0] < previous, names[k] + ": step " + step + " did not lower the loss: " + lg[0]
                        + " after " + previous);
                if (step == 0) {
                    first = lg[0];
                }
                previous = lg[0];
                for (int i = 0; i < p.length; i++) {
                    assertTrue(Float.isFinite(lg[i + 1]), names[k] + ": gradient " + i);
                    p[i] -= lr[k] * lg[i + 1]; // plain gradient descent
                }
            }
            assertTrue(previous < 0.97 * first, names[k] + ": 5 steps lowered the loss only from " + first + " to "
                    + previous);
        }
    }
}
