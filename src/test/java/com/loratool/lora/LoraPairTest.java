package com.loratool.lora;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.loratool.io.HostTensor;
import org.junit.jupiter.api.Test;

/** The one delta weight scaling * B A, on cases small enough to multiply out by hand. */
class LoraPairTest {
    static HostTensor t(long[] shape, float... v) {
        return new HostTensor(shape, v);
    }

    /** 4x6 linear weight, r = 1, alpha 2: scaling 2, delta[o][i] = 2 * B[o] * A[i]. */
    @Test
    void linearRankOne() {
        LoraPair p = new LoraPair(t(new long[] {1, 6}, 1, 2, 3, 4, 5, 6), t(new long[] {4, 1}, 1, 0, -1, 0.5f));
        HostTensor d = p.delta(new LoraScaling(1, 2, false).value());
        assertArrayEquals(new long[] {4, 6}, d.shape());
        assertArrayEquals(new float[] {
            2, 4, 6, 8, 10, 12,
            0, 0, 0, 0, 0, 0,
            -2, -4, -6, -8, -10, -12,
            1, 2, 3, 4, 5, 6}, d.data());
    }

    /** 4x6 linear weight, r = 2, alpha 2: scaling 1 (rslora: sqrt 2). */
    @Test
    void linearRankTwo() {
        HostTensor a = t(new long[] {2, 6},
                1, 0, 1, 0, 1, 0,
                0, 1, 0, 1, 0, 1);
        HostTensor b = t(new long[] {4, 2},
                1, 0,
                0, 2,
                1, 1,
                3, -1);
        LoraPair p = new LoraPair(a, b);
        float[] ba = {
            1, 0, 1, 0, 1, 0,
            0, 2, 0, 2, 0, 2,
            1, 1, 1, 1, 1, 1,
            3, -1, 3, -1, 3, -1};
        assertArrayEquals(ba, p.delta(new LoraScaling(2, 2, false).value()).data());
        float[] rs = new float[ba.length];
        for (int i = 0; i < ba.length; i++) {
            rs[i] = (float) (Math.sqrt(2) * ba[i]);
        }
        assertArrayEquals(rs, p.delta(new LoraScaling(2, 2, true).value()).data());
    }

    /**
     * Conv2d (out 2, in 2, 2x2 kernel), r = 2, alpha 2: A (2, 2, 2, 2), B (2, 2, 1, 1);
     * dW[o, i, :, :] = scaling * sum_j B[o, j] A[j, i, :, :].
     */
    @Test
    void convKernelRankTwo() {
        HostTensor a = t(new long[] {2, 2, 2, 2},
                1, 2, 3, 4, /* j0 i1 */ 5, 6, 7, 8,
                1, 0, 0, 1, /* j1 i1 */ 0, 1, 1, 0);
        HostTensor b = t(new long[] {2, 2, 1, 1},
                1, 1,
                2, -1);
        LoraPair p = new LoraPair(a, b);
        HostTensor d = p.delta(new LoraScaling(2, 2, false).value()); // scaling 1
        assertArrayEquals(new long[] {2, 2, 2, 2}, d.shape());
        assertArrayEquals(new float[] {
            2, 2, 3, 5, /* o0 i1 */ 5, 7, 8, 8,
            1, 4, 6, 7, /* o1 i1 */ 10, 11, 13, 16}, d.data());
        HostTensor d1 = new LoraPair(t(new long[] {1, 2, 2, 2}, 1, 2, 3, 4, 5, 6, 7, 8),
                t(new long[] {2, 1, 1, 1}, 1, -2)).delta(new LoraScaling(1, 2, true).value()); // r 1: scaling 2
        assertArrayEquals(new float[] {2, 4, 6, 8, 10, 12, 14, 16, -4, -8, -12, -16, -20, -24, -28, -32}, d1.data());
    }

    /**
     * The sum over the rank runs in double: 1e8 + 1 - 1e8 is 1, where float32 accumulation
     * gives 0 (1e8 + 1 rounds back to 1e8).
     */
    @Test
    void deltaIsAccumulatedInDouble() {
        LoraPair p = new LoraPair(t(new long[] {3, 1}, 1e8f, 1, -1e8f), t(new long[] {1, 3}, 1, 1, 1));
        assertArrayEquals(new float[] {2}, p.delta(2).data());
    }

    /** W + scaling B A formed in double and rounded once (here 1 + 2 * 1 = 3). */
    @Test
    void mergeIntoAddsTheDelta() {
        LoraPair p = new LoraPair(t(new long[] {3, 1}, 1e8f, 1, -1e8f), t(new long[] {1, 3}, 1, 1, 1));
        assertArrayEquals(new float[] {3}, p.mergeInto(t(new long[] {1, 1}, 1), 2).data());
        assertThrows(IllegalArgumentException.class, () -> p.mergeInto(t(new long[] {1, 2}, 1, 1), 2));
    }
}
