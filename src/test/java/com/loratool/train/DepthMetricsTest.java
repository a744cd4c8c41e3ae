package com.loratool.train;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class DepthMetricsTest {
    @Test
    void affinePredictionOfDisparityIsPerfect() {
        float[] z = {1, 2, 4, 5};
        float[] p = new float[4];
        for (int i = 0; i < 4; i++) {
            p[i] = 7f / z[i] - 3f;
        }
        double[] r = DepthMetrics.compute(p, z, new float[] {1, 1, 1, 1}, 0, 4);
        assertEquals(0.0, r[0], 1e-6);
        assertEquals(1.0, r[1], 0);
        assertEquals(4, r[2], 0);
    }

    @Test
    void handComputedCase() {
        // Z = [1, 2, 4, 4], 1/Z = [1, .5, .25, .25]; p = [1, 2, 3, 4] (pbar 2.5, dbar .5)
        // s = sum (p - 2.5) d / sum (p - 2.5)^2 = (-1.5 - .25 + .125 + .375)/5 = -0.25
        // disparity = -0.25 (p - 2.5) + .5 = [.875, .625, .375, .125] -> Zp = [8/7, 1.6, 8/3, 8]
        // rel = [1/7, 0.2, 1/3, 1]; AbsRel = 1.67619/4 = 0.4190476; ratios [1.143, 1.25, 1.5, 2]
        // -> delta1 counts only 8/7 (1.25 is not < 1.25): 0.25. The masked 5th pixel is ignored.
        float[] z = {1, 2, 4, 4, 9};
        float[] p = {1, 2, 3, 4, -100};
        double[] r = DepthMetrics.compute(p, z, new float[] {1, 1, 1, 1, 0}, 0, 5);
        assertEquals(0.4190476, r[0], 1e-6);
        assertEquals(0.25, r[1], 1e-12);
    }
}
