package com.loratool.sweep;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Student t-intervals worked by hand: half-width = t(0.975, n-1) * s / sqrt(n). */
class IntervalTest {
    @Test
    void threeValues() {
        // mean 2, s = 1, t(0.975, 2) = 4.303: 4.303 / sqrt(3) = 2.48434
        Interval i = Interval.of(1, 2, 3);
        assertEquals(2.0, i.mean(), 1e-12);
        assertEquals(2.48434, i.halfWidth(), 1e-5);
        assertEquals(3, i.n());
    }

    @Test
    void fourValues() {
        // mean 0.13, squared deviations 0.0009 + 0.0001 + 0.0001 + 0.0009 = 0.002, s = sqrt(0.002 / 3) = 0.0258199,
        // s / sqrt(4) = 0.0129099, t(0.975, 3) = 3.182: 0.0410794
        Interval i = Interval.of(0.10, 0.12, 0.14, 0.16);
        assertEquals(0.13, i.mean(), 1e-12);
        assertEquals(0.0410794, i.halfWidth(), 1e-6);
        assertEquals(0.13 - 0.0410794, i.low(), 1e-6);
    }

    @Test
    void nanValuesAreLeftOutAndOneValueHasNoInterval() {
        // 1 and 3: mean 2, s = sqrt(2), t(0.975, 1) = 12.706: 12.706 * sqrt(2) / sqrt(2)
        Interval i = Interval.of(1, Double.NaN, 3);
        assertEquals(2, i.n());
        assertEquals(12.706, i.halfWidth(), 1e-9);
        Interval one = Interval.of(0.5);
        assertEquals(0.5, one.mean());
        assertTrue(Double.isNaN(one.halfWidth()));
        assertFalse(one.excludesZero());
        assertEquals(0, Interval.of().n());
    }

    @Test
    void pairedDifferencesDecideWhetherTwoCombinationsDiffer() {
        // differences 0.02, 0.01, 0.03: mean 0.02, s = 0.01, half 4.303 * 0.01 / sqrt(3) = 0.0248434: holds 0
        Interval noisy = Interval.paired(new double[] {0.30, 0.25, 0.20}, new double[] {0.28, 0.24, 0.17});
        assertEquals(0.02, noisy.mean(), 1e-12);
        assertEquals(0.0248434, noisy.halfWidth(), 1e-6);
        assertFalse(noisy.excludesZero());
        // differences 0.020, 0.021, 0.019: s = 0.001, half 0.00248434: excludes 0
        Interval clear = Interval.paired(new double[] {0.30, 0.251, 0.209}, new double[] {0.28, 0.23, 0.19});
        assertEquals(0.00248434, clear.halfWidth(), 1e-7);
        assertTrue(clear.excludesZero());
        // a fold missing on one side is left out of the pairing
        assertEquals(2, Interval.paired(new double[] {1, Double.NaN, 3}, new double[] {0, 0, 0}).n());
    }

    @Test
    void tQuantilesFromTheTableAndBeyond() {
        assertEquals(2.262, Interval.t975(9), 1e-12);
        assertEquals(2.042, Interval.t975(30), 1e-12);
        assertEquals(2.021, Interval.t975(40), 5e-4); // tables: 2.0211
        assertEquals(1.984, Interval.t975(100), 5e-4); // tables: 1.9840
    }
}
