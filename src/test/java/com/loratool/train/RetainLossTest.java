package com.loratool.train;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.loratool.data.Sample;
import com.loratool.train.loss.DepthLoss;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class RetainLossTest {
    private static final DepthLoss ZERO = (pred, depth, mask) -> pred.sum().mul(0f);

    private static float term(float[] reference, float[] pred, double weight) {
        Sample s = new Sample("a", new float[9], new float[] {1, 1, 1}, new boolean[] {true, true, true}, 1, 3);
        Batch b = Batch.of(List.of(s), false, Map.of("a", reference)::get);
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray p = m.create(pred, new Shape(1, 1, 3));
            return RetainLoss.of(ZERO, b, weight).compute(p, b.depth(m), b.mask(m)).getFloat();
        }
    }

    @Test
    void handComputedScaleShiftResidual() {
        // base 1, 2, 3 -> target disparity d = r / mean(r) = 0.5, 1, 1.5; prediction 1, 3, 2:
        // least squares s = cov(p, d) / var(p) = 0.5 / 2 = 0.25, t = 1 - 0.25 * 2 = 0.5;
        // s p + t - d = 0.25, 0.25, -0.5: mean |R| = 1/3; weight 2: 2/3
        assertEquals(2.0 / 3, term(new float[] {1, 2, 3}, new float[] {1, 3, 2}, 2), 1e-5);
    }

    @Test
    void anAffineCopyOfTheBaseCostsNothingAndUnpredictedPixelsDoNotCount() {
        assertEquals(0, term(new float[] {1, 2, 3}, new float[] {4, 7, 10}, 5), 1e-5);
        // the base's 0 at the last pixel is left out: two pixels are always aligned exactly
        assertEquals(0, term(new float[] {1, 2, 0}, new float[] {5, 1, 9}, 5), 1e-5);
    }
}
