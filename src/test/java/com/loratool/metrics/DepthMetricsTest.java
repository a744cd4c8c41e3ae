package com.loratool.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.loratool.metrics.DepthMetrics;
import com.loratool.metrics.DisparityAlignment;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class DepthMetricsTest {
    private static final double EPS = 1e-12;

    /** Z = [1, 2, 4], Zp = [1, 4, 2]: every metric worked out by hand in the comments. */
    @Test
    void handComputedMetrics() {
        float[] z = {1, 2, 4};
        double[] zp = {1, 4, 2};
        DepthMetrics m = DepthMetrics.of(zp, z, new boolean[] {true, true, true}, 0);
        double ln2 = Math.log(2);
        assertEquals(0.5, m.absRel(), EPS);                       // (0 + 2/2 + 2/4) / 3
        assertEquals(1.0, m.sqRel(), EPS);                        // (0 + 4/2 + 4/4) / 3
        assertEquals(Math.sqrt(8.0 / 3), m.rmse(), EPS);          // sqrt((0 + 4 + 4) / 3)
        assertEquals(ln2 * Math.sqrt(2.0 / 3), m.rmseLog(), EPS); // g = 0, ln2, -ln2
        assertEquals(2 * Math.log10(2) / 3, m.log10(), EPS);
        assertEquals(1.0 / 3, m.delta1(), EPS);                   // ratios 1, 2, 2
        assertEquals(1.0 / 3, m.delta2(), EPS);                   // 2 > 1.5625
        assertEquals(1.0 / 3, m.delta3(), EPS);                   // 2 > 1.953125
        assertEquals(100 * ln2 * Math.sqrt(2.0 / 3), m.siLog(), EPS); // mean g = 0
        assertEquals(3, m.pixels());
    }

    /** p = [0, 1, 2] against 1/Z = [1, 1/2, 1/4]: s = cov/var = -0.75/2, t = 7/12 - s. */
    @Test
    void handComputedAlignment() {
        float[] p = {0, 1, 2, 99};
        float[] z = {1, 2, 4, 0}; // the last pixel is not measured
        boolean[] m = DisparityAlignment.measured(z, null);
        assertTrue(!m[3]);
        DisparityAlignment a = DisparityAlignment.fit(p, z, m);
        assertEquals(-0.375, a.scale(), EPS);
        assertEquals(23.0 / 24, a.shift(), EPS);
        assertEquals(1 / (10.0 * 4), a.floor(), EPS);
        assertEquals(24.0 / 23, a.depth(0), EPS);
        assertEquals(1 / (23.0 / 24 - 0.375), a.depth(1), EPS);
        assertEquals(1 / (23.0 / 24 - 0.75), a.depth(2), EPS);
        // p = 99 aligns to a negative disparity: clamped to 10 x the farthest measured depth
        assertEquals(40.0, a.depth(99), EPS);
    }

    @Test
    void constantPredictionFitsTheMeanDisparity() {
        float[] p = {3, 3, 3};
        float[] z = {1, 2, 4};
        DisparityAlignment a = DisparityAlignment.fit(p, z, DisparityAlignment.measured(z, null));
        assertEquals(0, a.scale(), EPS);
        assertEquals(1.75 / 3, a.shift(), EPS);
    }

    @Test
    void clampedPixelsAreCounted() {
        // p = [0, 0, 10] vs Z = [1, 1, 1000]: the fit is exact (two distinct values), nothing clamped
        DepthMetrics ok = DisparityAlignment.evaluate(new float[] {0, 0, 10}, new float[] {1, 1, 1000},
                new boolean[] {true, true, true});
        assertEquals(0, ok.clamped());
        assertEquals(0, ok.absRel(), 1e-9);
        // p = [0, 1, 2, 3] vs 1/Z = [1, 0, 1, 0]-ish: some aligned disparities fall below the floor
        float[] z = {1, 1000, 1, 1000};
        DepthMetrics m = DisparityAlignment.evaluate(new float[] {0, 10, 0, 20}, z,
                DisparityAlignment.measured(z, null));
        assertTrue(m.clamped() >= 1, "clamped " + m.clamped());
        assertTrue(Double.isFinite(m.absRel()));
    }

    /** Any positive scale and shift of a perfect disparity prediction scores perfectly. */
    @Test
    void alignmentInvariance() {
        Random rnd = new Random(7);
        int n = 4000;
        float[] z = new float[n];
        boolean[] mask = new boolean[n];
        for (int i = 0; i < n; i++) {
            z[i] = 500 + 4500 * rnd.nextFloat();
            mask[i] = rnd.nextInt(5) != 0;
        }
        z[3] = 0;
        z[4] = Float.NaN;
        double[][] scaleShift = {{1, 0}, {1000, 5}, {1e-3, 1e-6}, {250, 0.2}, {7, -1e-3}}; // shifts of the order of the signal: float32 p keeps ~7 digits;
        for (double[] ab : scaleShift) {
            float[] p = new float[n];
            for (int i = 0; i < n; i++) {
                p[i] = (float) (ab[0] / z[i] + ab[1]);
            }
            for (int i = 0; i < n; i++) {
                if (!mask[i]) {
                    p[i] = -1e6f + i; // garbage where nothing is measured must not matter
                }
            }
            DepthMetrics m = DisparityAlignment.evaluate(p, z, DisparityAlignment.measured(z, mask));
            String at = "scale " + ab[0] + " shift " + ab[1];
            assertTrue(m.absRel() < 1e-4, at + ": absRel " + m.absRel());
            assertTrue(m.rmse() < 0.5, at + ": rmse " + m.rmse()); // mm, float32 rounding of p
            assertTrue(m.rmseLog() < 1e-4, at);
            assertTrue(m.log10() < 1e-4, at);
            assertTrue(m.siLog() < 1e-2, at);
            assertEquals(1.0, m.delta1(), 0, at);
            assertEquals(1.0, m.delta3(), 0, at);
            assertEquals(0, m.clamped(), at);
        }
    }

    @Test
    void meanSkipsEmptyImagesAndDifferenceSubtracts() {
        float[] z = {1, 2, 4};
        DepthMetrics a = DepthMetrics.of(new double[] {1, 4, 2}, z, new boolean[] {true, true, true}, 0);
        DepthMetrics b = DepthMetrics.of(new double[] {1, 2, 4}, z, new boolean[] {true, true, true}, 0);
        DepthMetrics mean = DepthMetrics.mean(List.of(a, b, DepthMetrics.empty()));
        assertEquals(0.25, mean.absRel(), EPS);
        assertEquals((1 / 3.0 + 1) / 2, mean.delta1(), EPS);
        assertEquals(6, mean.pixels());
        assertEquals(0.5, a.minus(b).absRel(), EPS);
        assertEquals(-2 / 3.0, a.minus(b).delta1(), EPS);
        assertTrue(DepthMetrics.mean(List.of(DepthMetrics.empty())).isEmpty());
    }
}
