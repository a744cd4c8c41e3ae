package com.loratool.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

class HoleFillingTest {
    @Test
    void nearestValidMatchesBruteForceOnRandomMasks() {
        Random r = new Random(7);
        for (int trial = 0; trial < 60; trial++) {
            int h = 1 + r.nextInt(40);
            int w = 1 + r.nextInt(40);
            double density = new double[] {0.002, 0.02, 0.2, 0.7, 0.98}[trial % 5];
            boolean[] valid = new boolean[h * w];
            for (int i = 0; i < valid.length; i++) {
                valid[i] = r.nextDouble() < density;
            }
            valid[r.nextInt(valid.length)] = true;
            int[] got = HoleFilling.nearestValid(valid, h, w);
            for (int i = 0; i < valid.length; i++) {
                long best = Long.MAX_VALUE;
                for (int j = 0; j < valid.length; j++) {
                    if (valid[j]) {
                        best = Math.min(best, d2(i, j, w));
                    }
                }
                assertTrue(valid[got[i]], "source must be valid");
                assertEquals(best, d2(i, got[i], w), "trial " + trial + " pixel " + i + " (" + h + "x" + w + ")");
            }
        }
    }

    private static long d2(int i, int j, int w) {
        long dy = i / w - j / w;
        long dx = i % w - j % w;
        return dx * dx + dy * dy;
    }

    @Test
    void fillCopiesValuesAndKeepsMeasuredMask() {
        // 1x5 row: [NaN, 2, -1, inf, 5] -> [2, 2, 2 (tie 2/5 either), 5, 5]
        float[] z = {Float.NaN, 2f, -1f, Float.POSITIVE_INFINITY, 5f};
        boolean[] m = HoleFilling.fill(z, 1, 5);
        assertEquals(2f, z[0]);
        assertEquals(2f, z[1]);
        assertEquals(2f, z[2]); // distance 1 to index 1, 2 to index 4
        assertEquals(5f, z[3]);
        assertEquals(5f, z[4]);
        assertFalse(m[0]);
        assertTrue(m[1]);
        assertFalse(m[2]);
        assertFalse(m[3]);
        assertTrue(m[4]);
        assertThrows(IllegalArgumentException.class, () -> HoleFilling.fill(new float[] {Float.NaN, 0f}, 1, 2));
    }
}
