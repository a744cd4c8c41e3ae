package com.loratool.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.loratool.data.Cv;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** lora eval of Depth Anything 3 predictions: the predicted depth is aligned to Z, not 1/p to 1/Z. */
class Da3EvaluatorTest {
    @BeforeAll
    static void opencv() {
        Cv.load();
    }

    /** A prediction that is an exact affine function of Z (p = Z / 250 - 1.5): AbsRel 0, delta1 1. */
    @Test
    void anExactAffineDepthScoresZeroWithTheDepthAlignment() {
        DepthModel affine = s -> {
            float[] p = new float[s.depth().length];
            for (int i = 0; i < p.length; i++) {
                p[i] = Float.isNaN(s.depth()[i]) ? 0 : s.depth()[i] / 250f - 1.5f;
            }
            return p;
        };
        List<EvalSample> samples = List.of(EvaluatorTest.sample("a", 30, 20), EvaluatorTest.sample("b", 28, 14));
        EvalResult depth = new Evaluator(affine, affine, "LoRA", false).depthOutput(true).progress(null).run(samples, null);
        assertEquals(0, depth.lora().absRel(), 1e-6);
        assertEquals(1.0, depth.lora().delta1());
        assertEquals(0, depth.lora().clamped());
        assertEquals(30 * 20 - 1 + 28 * 14 - 1, depth.lora().pixels());
        // the V2 protocol (1/p is disparity) on the same prediction is not exact: the DA3 path is a different one
        EvalResult disparity = new Evaluator(affine, affine, "LoRA", false).progress(null).run(samples, null);
        assertTrue(disparity.lora().absRel() > 1e-3, "" + disparity.lora().absRel());
    }
}
