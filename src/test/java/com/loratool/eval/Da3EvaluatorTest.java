package com.loratool.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.loratool.data.CameraIntrinsics;
import com.loratool.data.Cv;
import com.loratool.data.NetworkInput;
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

    /**
     * DA3METRIC: metres = focal x output / 300 with the focal of the camera resized to the network input.
     * A 30x20 image seen by fx = fy = 900 px, fed to the network at 21x14: fx' = 900 x 21/30 = 630,
     * fy' = 900 x 14/20 = 630, so an output of Z[m] x 300 / 630 is Z exactly (the original: absolute
     * AbsRel 0) and 1.1 times that is 10 % too far everywhere (LoRA: AbsRel 0.1, RMSE 0.1 rms(Z) mm,
     * delta1 1); both are exact after the depth alignment. The image-size focal (900) would give 900/630
     * times Z.
     */
    @Test
    void da3MetricIsScoredInMillimetresAtTheNetworkInputsFocal() {
        CameraIntrinsics camera = new CameraIntrinsics(900, 900, 14.5, 9.5, 30, 20);
        EvalSample plain = EvaluatorTest.sample("a", 30, 20);
        EvalSample s = new EvalSample(plain.name(), plain.imageFile(), plain.image(), plain.depth(),
                new NetworkInput(new float[3 * 14 * 21], 14, 21));
        DepthModel exact = e -> {
            float[] p = new float[e.depth().length];
            for (int i = 0; i < p.length; i++) {
                p[i] = Float.isNaN(e.depth()[i]) ? 1 : (float) (e.depth()[i] / 1000.0 * 300 / 630);
            }
            return p;
        };
        DepthModel far = e -> {
            float[] p = exact.predict(e);
            for (int i = 0; i < p.length; i++) {
                p[i] *= 1.1f;
            }
            return p;
        };
        EvalResult r = new Evaluator(new Da3Metres(far, camera), new Da3Metres(exact, camera), "LoRA", false, true)
                .depthOutput(true).progress(null).run(List.of(s), null);
        assertTrue(r.absolute());
        assertEquals(0, r.originalAbsolute().absRel(), 1e-6);
        assertEquals(0.1, r.loraAbsolute().absRel(), 1e-6);
        assertEquals(1.0, r.loraAbsolute().delta1());
        double sq = 0;
        int n = 0;
        for (float z : s.depth()) {
            if (z > 0) {
                sq += z * (double) z;
                n++;
            }
        }
        assertEquals(0.1 * Math.sqrt(sq / n), r.loraAbsolute().rmse(), 1e-3 * Math.sqrt(sq / n));
        assertEquals(0, r.lora().absRel(), 1e-5); // aligned in depth: a scaled depth is exact
    }
}
