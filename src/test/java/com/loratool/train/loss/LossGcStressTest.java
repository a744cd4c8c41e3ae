package com.loratool.train.loss;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import java.util.Arrays;
import java.util.Random;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;

/**
 * Gradients must not depend on when the garbage collector runs. A constant handed to libtorch
 * through a Java direct buffer (DJL's {@code mul/div/maximum(Number)}) is freed by the collector
 * while the autograd graph still refers to it; a collection between forward and backward then
 * turns the gradient into garbage. Each loss is differentiated twice, once with several full
 * collections between forward and backward, and the gradients must be bit-identical.
 */
class LossGcStressTest {
    static final int B = 2;
    static final int H = 6;
    static final int W = 7;

    /**
     * Depth spans three decades and the prediction follows 1/Z with noise, so the aligned
     * disparity falls below silog's clamp (1e-3) on some pixels and the clamp's mask matters.
     */
    static float[] gradient(DepthLoss loss, boolean collectBetween) {
        Random r = new Random(3);
        float[] p = new float[B * H * W];
        float[] z = new float[B * H * W];
        float[] m = new float[B * H * W];
        for (int i = 0; i < p.length; i++) {
            z[i] = (float) Math.exp(7 * r.nextDouble());
            p[i] = (float) (1 / z[i] + 0.05 * r.nextGaussian());
            m[i] = r.nextDouble() < 0.8 ? 1 : 0;
        }
        try (NDManager s = NDManager.newBaseManager()) {
            NDArray pred = s.create(p, new Shape(B, H, W));
            pred.setRequiresGradient(true);
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                NDArray l = loss.compute(pred, s.create(z, new Shape(B, H, W)), s.create(m, new Shape(B, H, W)));
                if (collectBetween) {
                    collectGarbage();
                }
                gc.backward(l);
            }
            return pred.getGradient().toFloatArray();
        }
    }

    static void collectGarbage() {
        for (int i = 0; i < 3; i++) {
            System.gc();
            try {
                Thread.sleep(30); // the Cleaner thread frees direct buffers after the collection
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    static void check(String name, DepthLoss loss) {
        float[] clean = gradient(loss, false);
        for (float v : clean) {
            assertTrue(Float.isFinite(v), name + ": non-finite gradient without GC");
        }
        for (int round = 0; round < 3; round++) {
            assertArrayEquals(clean, gradient(loss, true), name + ": gradient changed by a GC between forward and backward");
        }
    }

    @Test
    void ssiGradientsDoNotDependOnTheCollector() {
        check("ssi", new SsiLoss(0, 1));
        check("ssi + gradient matching", new SsiLoss(0.5, 2));
    }

    @Test
    void silogGradientsDoNotDependOnTheCollector() {
        check("silog", new SiLogLoss(0.5));
    }

    @Test
    void l1AndMseGradientsDoNotDependOnTheCollector() {
        check("l1", new NormalisedTargetLoss(false));
        check("mse", new NormalisedTargetLoss(true));
    }

    /**
     * The trap itself, so the checks above are known to be able to fail: DJL's maximum(Number)
     * under autograd gives a different gradient after a collection.
     */
    @Test
    void djlNumberConstantIsReadAfterItIsFreed() {
        UnaryOperator<NDArray> unsafe = x -> x.maximum(0.1f);
        DepthLoss broken = (pred, depth, mask) -> unsafe.apply(pred).mul(pred).sum();
        float[] clean = gradient(broken, false);
        boolean differs = false;
        for (int round = 0; round < 3 && !differs; round++) {
            differs = !Arrays.equals(clean, gradient(broken, true));
        }
        assertTrue(differs, "DJL's maximum(Number) no longer reads a freed constant: the trap is gone");
    }
}
