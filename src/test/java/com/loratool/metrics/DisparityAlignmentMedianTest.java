package com.loratool.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

class DisparityAlignmentMedianTest {
    @Test
    void medianOfEvenAndOddCounts() {
        assertEquals(2.5, DisparityAlignment.median(new double[] {4, 1, 3, 2}));
        assertEquals(3.0, DisparityAlignment.median(new double[] {5, 3, 1, 3, 9}));
        assertEquals(7.0, DisparityAlignment.median(new double[] {7}));
    }

    @Test
    void medianMatchesSortingOnRandomData() {
        Random r = new Random(1);
        for (int n = 1; n < 200; n += 7) {
            double[] v = new double[n];
            for (int i = 0; i < n; i++) {
                v[i] = r.nextInt(20); // many ties
            }
            double[] s = v.clone();
            Arrays.sort(s);
            double want = n % 2 == 1 ? s[n / 2] : 0.5 * (s[n / 2 - 1] + s[n / 2]);
            assertEquals(want, DisparityAlignment.median(v), "n " + n);
        }
    }
}
