package com.loratool.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

class CompletionEvalTest {
    static final int H = 30;
    static final int W = 40;

    /** A plane rising 2 mm per column: Z = 1000 + 2u. */
    static float[] ramp() {
        float[] z = new float[H * W];
        for (int i = 0; i < z.length; i++) {
            z[i] = 1000 + 2 * (i % W);
        }
        return z;
    }

    @Test
    void knownAnswerOnARampWithAThreeColumnStripe() {
        float[] z = ramp();
        boolean[] holes = new boolean[z.length];
        for (int v = 0; v < H; v++) { // full-height stripe: no neighbour above or below
            for (int u = 10; u <= 12; u++) {
                holes[v * W + u] = true;
            }
        }
        float[] pred = new float[z.length];
        for (int i = 0; i < z.length; i++) {
            pred[i] = 5000f / z[i] + 0.3f; // exact affine function of the true disparity
        }
        CompletionEval.Result r = CompletionEval.evaluate(pred, z, holes, H, W, false);
        assertEquals(3 * H, r.nearest().n());
        // nearest neighbour: column 10 takes column 9 (2 mm off), column 12 column 13 (2 mm), column 11
        // either neighbour (4 mm): mean |e| = (2 + 4 + 2) / 3, RMSE sqrt((4 + 16 + 4) / 3)
        assertEquals(8.0 / 3, r.nearest().maeMm(), 1e-9);
        assertEquals(Math.sqrt(8), r.nearest().rmseMm(), 1e-9);
        double rel = (2.0 / 1020 + 4.0 / 1022 + 2.0 / 1024) / 3;
        assertEquals(rel, r.nearest().absRel(), 1e-12);
        // the prediction is perfect: completion and alignment are exact up to float rounding
        assertTrue(r.completion().maeMm() < 1e-3, "completion " + r.completion().maeMm());
        assertTrue(r.aligned().maeMm() < 1e-3, "aligned " + r.aligned().maeMm());
    }

    @Test
    void holesAreSeededBlobsOfMeasuredPixels() {
        float[] z = ramp();
        for (int i = 0; i < z.length; i += 7) {
            z[i] = Float.NaN;
        }
        boolean[] a = CompletionEval.punchHoles(z, H, W, 0.1, 42);
        assertArrayEquals(a, CompletionEval.punchHoles(z, H, W, 0.1, 42));
        int n = 0;
        int measured = 0;
        for (int i = 0; i < z.length; i++) {
            measured += DepthMap.measured(z[i]) ? 1 : 0;
            if (a[i]) {
                n++;
                assertTrue(DepthMap.measured(z[i]));
            }
        }
        assertEquals(Math.round(0.1 * measured), n);
        boolean[] b = CompletionEval.punchHoles(z, H, W, 0.1, 43);
        assertTrue(!Arrays.equals(a, b), "another seed, other holes");
    }
}
