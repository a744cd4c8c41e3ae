package com.loratool.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class MetricDepthTest {
    private static final double EPS = 1e-9;
    private static final boolean[] ALL3 = {true, true, true};

    /** The hand-computed case of DepthMetricsTest (Z = [1, 2, 4] mm, Zp = [1, 4, 2] mm) given in metres. */
    @Test
    void absoluteConvertsMetresToMillimetresWithoutAlignment() {
        DepthMetrics m = MetricDepth.absolute(new float[] {0.001f, 0.004f, 0.002f}, new float[] {1, 2, 4}, ALL3);
        assertEquals(0.5, m.absRel(), 1e-6);               // (0 + 2/2 + 2/4) / 3
        assertEquals(Math.sqrt(8.0 / 3), m.rmse(), 1e-6);  // mm
        assertEquals(1.0 / 3, m.delta1(), EPS);
        assertEquals(0, m.clamped());
    }

    /** Twice the true depth: absolute AbsRel 1 and RMSE = the depths' RMS; aligned, the scale is removed. */
    @Test
    void aScaleErrorCountsAbsolutelyButNotAligned() {
        float[] zMm = {1000, 2000, 4000};
        float[] twice = {2f, 4f, 8f};
        DepthMetrics abs = MetricDepth.absolute(twice, zMm, ALL3);
        assertEquals(1.0, abs.absRel(), 1e-6);
        assertEquals(Math.sqrt((1e6 + 4e6 + 16e6) / 3), abs.rmse(), 1e-2);
        assertEquals(0.0, abs.delta1(), EPS);
        DepthMetrics al = MetricDepth.aligned(twice, zMm, ALL3);
        assertEquals(0.0, al.absRel(), 1e-6);
        assertEquals(1.0, al.delta1(), EPS);
    }

    @Test
    void unmeasuredPixelsAreIgnoredAndZeroPredictionsClamped() {
        DepthMetrics m = MetricDepth.absolute(new float[] {0f, 0.002f, 123f}, new float[] {1, 2, 0},
                new boolean[] {true, true, false});
        assertEquals(2, m.pixels());
        assertEquals(1, m.clamped());
        // |0.001 - 1| / 1 and 0: mean 0.4995
        assertEquals((1 - MetricDepth.MIN_PREDICTION_MM) / 2, m.absRel(), 1e-6);
    }
}
