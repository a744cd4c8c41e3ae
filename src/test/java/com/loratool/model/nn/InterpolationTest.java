package com.loratool.model.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** Interpolation matrices against hand-computed PyTorch kernel values. */
class InterpolationTest {
    @Test
    void bilinearAlignCornersTwoToThree() {
        // scale (2-1)/(3-1) = 0.5: sources 0, 0.5, 1 (the last clamps its right neighbour)
        assertArrayEquals(new float[] {1, 0, 0.5f, 0.5f, 0, 1}, Interpolation.bilinearAlignCorners(2, 3), 0f);
    }

    @Test
    void bilinearAlignCornersToOnePixelTakesTheFirst() {
        assertArrayEquals(new float[] {1, 0, 0}, Interpolation.bilinearAlignCorners(3, 1), 0f);
    }

    @Test
    void bilinearAlignCornersDownsampleThreeToTwoKeepsCorners() {
        // scale (3-1)/(2-1) = 2: sources 0 and 2
        assertArrayEquals(new float[] {1, 0, 0, 0, 0, 1}, Interpolation.bilinearAlignCorners(3, 2), 0f);
    }

    @Test
    void bicubicScaleOneIsIdentity() {
        float[] m = Interpolation.bicubic(5, 5, 1.0);
        for (int i = 0; i < 5; i++) {
            for (int j = 0; j < 5; j++) {
                assertEquals(i == j ? 1f : 0f, m[i * 5 + j], 1e-7f);
            }
        }
    }

    @Test
    void bicubicUpsampleByTwoFirstRows() {
        // A = -0.75. Row 0: source -0.25 → idx -1, t 0.75, weights
        // cc2(1.75) = -0.03515625, cc1(0.75) = 0.26171875, cc1(0.25) = 0.87890625, cc2(1.25) = -0.10546875
        // on indices -2,-1,0,1, clamped to 0,0,0,1.
        float[] m = Interpolation.bicubic(4, 8, 2.0);
        assertArrayEquals(new float[] {1.10546875f, -0.10546875f, 0, 0}, slice(m, 0, 4), 1e-7f);
        // Row 1: source 0.25 → idx 0, t 0.25: weights cc2(1.25), cc1(0.25), cc1(0.75), cc2(1.75)
        // on indices -1,0,1,2 → clamped 0,0,1,2.
        assertArrayEquals(new float[] {-0.10546875f + 0.87890625f, 0.26171875f, -0.03515625f, 0}, slice(m, 1, 4), 1e-7f);
        // Row 3: source 1.25 → idx 1, t 0.25, no clamping.
        assertArrayEquals(new float[] {-0.10546875f, 0.87890625f, 0.26171875f, -0.03515625f}, slice(m, 3, 4), 1e-7f);
    }

    @Test
    void bicubicUsesTheGivenScaleNotTheSizeRatio() {
        // DINOv2: 37 → 7 with scale (7 + 0.1) / 37; the source of output 0 is 0.5 * 37/7.1 - 0.5.
        float[] m = Interpolation.bicubic(37, 7, 7.1 / 37);
        float real = (float) (1.0 / (7.1 / 37)) * 0.5f - 0.5f; // 2.1056338
        int idx = (int) Math.floor(real);
        float t = real - idx;
        float a = -0.75f;
        float w1 = ((a + 2) * t - (a + 3)) * t * t + 1;
        assertEquals(2, idx);
        assertEquals(w1, m[idx], 1e-7f);
        float rowSum = 0;
        for (int j = 0; j < 37; j++) {
            rowSum += m[j];
        }
        assertEquals(1f, rowSum, 1e-6f);
    }

    private static float[] slice(float[] m, int row, int cols) {
        float[] r = new float[cols];
        System.arraycopy(m, row * cols, r, 0, cols);
        return r;
    }
}
