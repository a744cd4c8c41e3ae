package com.loratool.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.loratool.metrics.DisparityAlignment;
import java.util.Random;
import org.junit.jupiter.api.Test;

class DepthCompletionTest {
    static final int H = 60;
    static final int W = 80;

    /** A bumpy surface 600..1400 mm. */
    static float[] truth() {
        float[] z = new float[H * W];
        for (int v = 0; v < H; v++) {
            for (int u = 0; u < W; u++) {
                z[v * W + u] = (float) (600 + 8 * u + 3 * v + 60 * Math.sin(u / 5.0) * Math.sin(v / 7.0));
            }
        }
        return z;
    }

    /** An exact affine function of the true disparity: p = a / Z + b. */
    static float[] affineOfDisparity(float[] z, double a, double b) {
        float[] p = new float[z.length];
        for (int i = 0; i < z.length; i++) {
            p[i] = (float) (a / z[i] + b);
        }
        return p;
    }

    static float[] withHoles(float[] z, long seed, double fraction) {
        Random r = new Random(seed);
        float[] s = z.clone();
        for (int i = 0; i < s.length; i++) {
            int u = i % W;
            int v = i / W;
            if ((u - 30) * (u - 30) + (v - 25) * (v - 25) < 64 || r.nextDouble() < fraction) {
                s[i] = Float.NaN;
            }
        }
        return s;
    }

    @Test
    void affinePredictionAlignsBackToTrueDepthToFloatPrecision() {
        float[] z = truth();
        float[] sensor = withHoles(z, 1, 0.2);
        float[] pred = affineOfDisparity(z, 3.7e4, -12.5);
        for (boolean robust : new boolean[] {false, true}) {
            float[] got = DepthCompletion.aligned(pred, sensor, robust);
            for (int i = 0; i < z.length; i++) { // also in the holes
                assertEquals(z[i], got[i], 1e-6f * z[i], "pixel " + i + " robust " + robust);
            }
        }
    }

    @Test
    void completionKeepsMeasuredPixelsAndFillsHolesWithoutStep() {
        float[] z = truth();
        float[] sensor = withHoles(z, 2, 0.3);
        // prediction: right shape, plus a smooth error the residual must correct near the border
        float[] pred = affineOfDisparity(z, 1.0, 0.0);
        for (int i = 0; i < pred.length; i++) {
            pred[i] *= (float) (1 + 0.02 * Math.sin(i % W / 11.0));
        }
        float[] aligned = DepthCompletion.aligned(pred, sensor, false);
        float[] done = DepthCompletion.complete(aligned, sensor, H, W);
        boolean[] valid = new boolean[z.length];
        for (int i = 0; i < z.length; i++) {
            valid[i] = DepthMap.measured(sensor[i]);
        }
        int[] src = HoleFilling.nearestValid(valid, H, W);
        for (int i = 0; i < z.length; i++) {
            if (valid[i]) {
                assertEquals(Float.floatToIntBits(sensor[i]), Float.floatToIntBits(done[i]), "measured pixel " + i);
            } else {
                assertTrue(DepthMap.measured(done[i]));
                int j = src[i];
                // residual carried over: fill - aligned == sensor - aligned at the source pixel
                assertEquals(sensor[j] - aligned[j], done[i] - aligned[i], 1e-3);
            }
        }
    }

    @Test
    void completionIsExactForAPerfectPrediction() {
        float[] z = truth();
        float[] sensor = withHoles(z, 3, 0.25);
        float[] done = DepthCompletion.complete(
                DepthCompletion.aligned(affineOfDisparity(z, 2.0, 0.1), sensor, false), sensor, H, W);
        for (int i = 0; i < z.length; i++) {
            assertEquals(z[i], done[i], 1e-4f * z[i]);
        }
    }

    @Test
    void robustFitIgnoresTwentyPercentGrossOutliers() {
        float[] z = truth();
        Random r = new Random(7);
        float[] sensor = z.clone();
        boolean[] inlier = new boolean[z.length];
        for (int i = 0; i < z.length; i++) {
            // 0.2 % noise on all, 20 % replaced by gross errors (spikes towards or away from the camera)
            sensor[i] = (float) (z[i] * (1 + 0.002 * r.nextGaussian()));
            inlier[i] = r.nextDouble() >= 0.2;
            if (!inlier[i]) {
                sensor[i] = (float) (z[i] * (r.nextBoolean() ? 0.3 + 0.4 * r.nextDouble() : 2 + 3 * r.nextDouble()));
            }
        }
        float[] pred = affineOfDisparity(z, 5.0e3, 2.0);
        DisparityAlignment truthFit = DisparityAlignment.fit(pred, z, DisparityAlignment.measured(z, null));
        DisparityAlignment robust = DepthCompletion.fit(pred, sensor, true);
        DisparityAlignment plain = DepthCompletion.fit(pred, sensor, false);
        double robustErr = relErr(robust, truthFit);
        double plainErr = relErr(plain, truthFit);
        assertTrue(robustErr < 0.005, "robust scale error " + robustErr);
        assertTrue(plainErr > 0.05, "the outliers must matter to plain least squares, got " + plainErr);
        float[] aligned = DepthCompletion.aligned(pred, sensor, true);
        double worst = 0;
        for (int i = 0; i < z.length; i++) {
            worst = Math.max(worst, Math.abs(aligned[i] - z[i]) / z[i]);
        }
        assertTrue(worst < 0.01, "worst relative depth error " + worst);
    }

    private static double relErr(DisparityAlignment a, DisparityAlignment ref) {
        return Math.abs(a.scale() - ref.scale()) / Math.abs(ref.scale());
    }
}
