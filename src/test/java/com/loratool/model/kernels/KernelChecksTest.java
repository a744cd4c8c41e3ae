package com.loratool.model.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import java.util.List;
import org.junit.jupiter.api.Test;

/** One check's verdict: right, slightly wrong, wrong in a gradient only, throwing, NaN. */
class KernelChecksTest {
    static KernelChecks.Check check(KernelChecks.Op kernel) {
        KernelChecks.Op reference = x -> x.get(0).mul(x.get(1));
        return new KernelChecks.Check("test", "2x3", List.of("input", "weight"),
                List.of(new long[] {2, 3}, new long[] {2, 3}), kernel, reference);
    }

    @Test
    void theSameComputationPasses() {
        try (NDManager m = NDManager.newBaseManager()) {
            KernelChecks.Outcome o = KernelChecks.run(check(x -> x.get(0).mul(x.get(1))), m, 1, null);
            assertTrue(o.pass(), o.toString());
            assertTrue(o.error() < 1e-6, o.toString());
        }
    }

    @Test
    void aForwardOffByOnePercentFails() {
        try (NDManager m = NDManager.newBaseManager()) {
            KernelChecks.Outcome o = KernelChecks.run(check(x -> x.get(0).mul(x.get(1)).mul(x.get(1).onesLike().add(0.01))),
                    m, 1, null);
            assertFalse(o.pass());
            assertEquals(0.01, o.error(), 1e-4, "relative L2 of a 1 % scale is 0.01");
        }
    }

    @Test
    void aWrongGradientWithARightForwardFails() {
        try (NDManager m = NDManager.newBaseManager()) {
            // x * stopGradient(w): the forward is right, the gradient of the weight is missing (zero)
            KernelChecks.Outcome o = KernelChecks.run(check(x -> x.get(0).mul(x.get(1).stopGradient())), m, 1, null);
            assertFalse(o.pass());
            assertEquals("gradient of weight", o.part());
        }
    }

    @Test
    void aKernelThatThrowsFails() {
        try (NDManager m = NDManager.newBaseManager()) {
            KernelChecks.Outcome o = KernelChecks.run(check(x -> {
                throw new IllegalStateException("unsupported hardware");
            }), m, 1, null);
            assertFalse(o.pass());
            assertTrue(o.part().contains("unsupported hardware"), o.part());
        }
    }

    @Test
    void nanIsNeverAPass() {
        assertTrue(Double.isNaN(KernelChecks.relativeError(new float[] {1, Float.NaN}, new double[] {1, 1})));
        assertFalse(new KernelChecks.Outcome("forward", Double.NaN).pass());
        assertEquals(0.0, KernelChecks.relativeError(new float[] {2, -3}, new double[] {2, -3}));
    }
}
