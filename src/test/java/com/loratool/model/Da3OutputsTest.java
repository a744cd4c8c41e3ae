package com.loratool.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.loratool.LoraException;
import org.junit.jupiter.api.Test;

/** Hand-computable cases of the Depth Anything 3 sky post-processing and metric conversion. */
class Da3OutputsTest {
    @Test
    void quantileInterpolatesLinearlyAsTorch() {
        // sorted 1..12, q = 0.99: position 0.99 * 11 = 10.89 → 11 + 0.89 * (12 - 11) = 11.89
        float[] v = {12, 3, 1, 2, 4, 5, 6, 7, 8, 9, 10, 11};
        assertEquals(11.89f, Da3Outputs.quantile(v, 0.99), 1e-5f);
        assertEquals(1f, Da3Outputs.quantile(v, 0), 0f);
        assertEquals(12f, Da3Outputs.quantile(v, 1), 0f);
        assertEquals(6.5f, Da3Outputs.quantile(v, 0.5), 0f);
        assertEquals(5f, Da3Outputs.quantile(new float[] {5}, 0.99), 0f);
    }

    @Test
    void skyPixelsGetTheNonSkyQuantileOverTheWholeBatch() {
        // 12 non-sky pixels (depth 1..12, sky 0.29 or 0) and 11 sky pixels (sky 0.3 or more, depth 100)
        float[] depth = new float[23];
        float[] sky = new float[23];
        for (int i = 0; i < 12; i++) {
            depth[i] = i + 1;
            sky[i] = i % 2 == 0 ? 0.29f : 0f;
        }
        for (int i = 12; i < 23; i++) {
            depth[i] = 100;
            sky[i] = i == 12 ? 0.3f : 5f;
        }
        float[] out = Da3Outputs.skyFill(depth, sky);
        for (int i = 0; i < 12; i++) {
            assertEquals(i + 1, out[i], 0f);
        }
        for (int i = 12; i < 23; i++) {
            assertEquals(11.89f, out[i], 1e-5f);
        }
        assertEquals(100f, depth[12], 0f); // the input is not changed
    }

    @Test
    void noFillWithTenOrFewerPixelsOnEitherSide() {
        // 10 sky pixels: nothing changes
        float[] depth = new float[22];
        float[] sky = new float[22];
        for (int i = 0; i < 22; i++) {
            depth[i] = i;
            sky[i] = i < 12 ? 0 : 1;
        }
        assertArrayEquals(depth, Da3Outputs.skyFill(depth, sky));
        // 10 non-sky pixels: nothing changes
        for (int i = 0; i < 22; i++) {
            sky[i] = i < 10 ? 0 : 1;
        }
        assertArrayEquals(depth, Da3Outputs.skyFill(depth, sky));
    }

    @Test
    void metresAreFocalTimesOutputOver300() {
        assertArrayEquals(new float[] {1f, 0.5f, 0f}, Da3Outputs.metres(new float[] {2, 1, 0}, 150), 0f);
        assertEquals(150.0, Da3Outputs.focal(140, 160), 0);
        for (double bad : new double[] {0, -1, Double.NaN, Double.POSITIVE_INFINITY}) {
            assertThrows(LoraException.class, () -> Da3Outputs.metres(new float[] {1}, bad));
        }
    }
}
