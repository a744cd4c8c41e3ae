package com.loratool.train.loss;

import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import com.loratool.model.Compute;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import java.util.function.IntToDoubleFunction;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Every loss gives a finite value and finite gradients on the inputs that break naive formulas:
 * a constant target, no or one counted pixel, a dead (all-zero) prediction, predictions whose
 * spread is tiny (the least-squares denominator near zero), and a full 518 x 518 image.
 */
class LossDegenerateCasesTest {
    static final Map<String, DepthLoss> LOSSES = new LinkedHashMap<>();

    static {
        LOSSES.put("ssi", new SsiLoss(0, 1));
        LOSSES.put("ssi+grad", new SsiLoss(0.5, 4));
        LOSSES.put("silog", new SiLogLoss(0.5));
        LOSSES.put("l1", new NormalisedTargetLoss(false));
        LOSSES.put("mse", new NormalisedTargetLoss(true));
    }

    @BeforeAll
    static void oneThread() {
        Compute.setThreads(1); // spinning OpenMP workers only slow a shared machine down
    }

    static void check(String what, int h, int w, IntToDoubleFunction pred, IntToDoubleFunction depth,
            IntToDoubleFunction mask) {
        float[] p = new float[h * w];
        float[] z = new float[h * w];
        float[] m = new float[h * w];
        for (int i = 0; i < p.length; i++) {
            p[i] = (float) pred.applyAsDouble(i);
            z[i] = (float) depth.applyAsDouble(i);
            m[i] = (float) mask.applyAsDouble(i);
        }
        Shape s = new Shape(1, h, w);
        for (Map.Entry<String, DepthLoss> e : LOSSES.entrySet()) {
            try (NDManager mg = NDManager.newBaseManager()) {
                NDArray x = mg.create(p, s);
                x.setRequiresGradient(true);
                float value;
                try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                    NDArray l = e.getValue().compute(x, mg.create(z, s), mg.create(m, s));
                    value = l.getFloat();
                    gc.backward(l);
                }
                assertTrue(Float.isFinite(value), e.getKey() + ", " + what + ": loss " + value);
                float[] g = x.getGradient().toFloatArray();
                for (int i = 0; i < g.length; i++) {
                    assertTrue(Float.isFinite(g[i]), e.getKey() + ", " + what + ": gradient[" + i + "] = " + g[i]);
                }
            }
        }
    }

    static double noise(int i) {
        return new Random(i * 7919L).nextGaussian();
    }

    @Test
    void constantTarget() {
        check("constant depth", 5, 6, LossDegenerateCasesTest::noise, i -> 3.0, i -> 1);
    }

    @Test
    void noCountedPixel() {
        check("empty mask", 5, 6, LossDegenerateCasesTest::noise, i -> 1 + i, i -> 0);
    }

    @Test
    void oneCountedPixel() {
        check("one pixel", 5, 6, LossDegenerateCasesTest::noise, i -> 1 + i, i -> i == 7 ? 1 : 0);
    }

    @Test
    void twoCountedPixelsWithTheSameDepth() {
        check("two equal pixels", 5, 6, LossDegenerateCasesTest::noise, i -> 2, i -> i == 7 || i == 20 ? 1 : 0);
    }

    @Test
    void deadPrediction() {
        check("all-zero prediction", 5, 6, i -> 0, i -> 1 + i, i -> 1);
    }

    @Test
    void constantPrediction() {
        check("constant prediction", 5, 6, i -> 0.37, i -> 1 + i, i -> 1);
    }

    @Test
    void predictionWithTinySpread() {
        check("spread 1e-7 on 1", 5, 6, i -> 1 + 1e-7 * noise(i), i -> 1 + i, i -> 1);
        check("spread 1e-18", 5, 6, i -> 1e-18 * noise(i), i -> 1 + i, i -> 1);
        check("spread 1e-30", 5, 6, i -> 1e-30 * noise(i), i -> 1 + i, i -> 1);
        check("one pixel 1e-20 above zero", 5, 6, i -> i == 3 ? 1e-20 : 0, i -> 1 + i, i -> 1);
    }

    @Test
    void hugePrediction() {
        check("spread 1e15", 5, 6, i -> 1e15 * noise(i), i -> 1 + i, i -> 1);
    }

    @Test
    void fullSizeImage() {
        Random r = new Random(5);
        double[] relu = r.doubles(518 * 518).map(v -> Math.max(0, v - 0.5)).toArray();
        check("518x518 random", 518, 518, i -> relu[i], i -> 500 + (i % 997), i -> i % 5 == 0 ? 0 : 1);
    }
}
