package com.loratool.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The depth alignment of Depth Anything 3 predictions (least-squares s, t with s p + t ~ Z), by hand. */
class DepthAlignmentTest {
    @Test
    void anExactAffineFunctionOfZGivesAbsRelZero() {
        float[] z = {1000, 1500, 2200, 3100, 4000};
        float[] p = new float[z.length];
        for (int i = 0; i < z.length; i++) {
            p[i] = (z[i] - 100) / 50f; // Z = 50 p + 100
        }
        boolean[] m = {true, true, true, true, true};
        DepthAlignment a = DepthAlignment.fit(p, z, m);
        assertEquals(50, a.scale(), 1e-9);
        assertEquals(100, a.shift(), 1e-6);
        DepthMetrics mt = DepthAlignment.evaluate(p, z, m);
        assertEquals(0, mt.absRel(), 1e-12);
        assertEquals(0, mt.rmse(), 1e-9);
        assertEquals(1, mt.delta1());
        assertEquals(5, mt.pixels());
        // the same prediction aligned the V2 way (its reciprocal as disparity) is not exact
        assertTrue(DisparityAlignment.evaluate(p, z, m).absRel() > 0.01);
    }

    /** p = [0, 0, 1, 1], Z = [1, 3, 5, 7]: s = 4, t = 2, aligned [2, 2, 6, 6]. */
    @Test
    void handComputedFit() {
        float[] p = {0, 0, 1, 1, 9};
        float[] z = {1, 3, 5, 7, 100};
        boolean[] m = {true, true, true, true, false}; // the last pixel is not measured: no weight
        DepthAlignment a = DepthAlignment.fit(p, z, m);
        assertEquals(4, a.scale(), 1e-12);
        assertEquals(2, a.shift(), 1e-12);
        assertEquals(0.1, a.floor(), 1e-12); // min Z / 10
        DepthMetrics mt = DepthAlignment.evaluate(p, z, m);
        assertEquals((1.0 + 1.0 / 3 + 1.0 / 5 + 1.0 / 7) / 4, mt.absRel(), 1e-12);
        assertEquals(1.0, mt.rmse(), 1e-12);
        assertEquals(0.5, mt.delta1(), 1e-12); // ratios 2, 1.5, 1.2, 7/6: two below 1.25
        assertEquals(4, mt.pixels());
    }

    /** p = [0, 1, 2, 3, 4], Z = [1, 1, 1, 1, 20]: s = 3.8, t = -2.8; the first pixel's -2.8 is raised to 0.1. */
    @Test
    void negativeAlignedDepthIsClamped() {
        float[] p = {0, 1, 2, 3, 4};
        float[] z = {1, 1, 1, 1, 20};
        boolean[] m = {true, true, true, true, true};
        DepthAlignment a = DepthAlignment.fit(p, z, m);
        assertEquals(3.8, a.scale(), 1e-12);
        assertEquals(-2.8, a.shift(), 1e-12);
        DepthMetrics mt = DepthAlignment.evaluate(p, z, m);
        assertEquals(1, mt.clamped());
        assertEquals(0.1, a.depth(0), 1e-12);
        // aligned [0.1, 1, 4.8, 8.6, 12.4]
        assertEquals((0.9 + 0 + 3.8 + 7.6 + 7.6 / 20) / 5, mt.absRel(), 1e-12);
    }

    @Test
    void noMeasuredPixelIsEmpty() {
        assertTrue(DepthAlignment.evaluate(new float[] {1, 2}, new float[] {1, 2}, new boolean[2]).isEmpty());
    }
}
