package com.loratool.train.loss;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;

/** Test helper: a loss's value and its gradient in the prediction, in one sub-manager of {@code m}. */
final class LossGradient {
    private LossGradient() {}

    /** {loss, dL/dp...} of {@code l} at {@code p} against {@code z} and {@code mask}, all of {@code shape}. */
    static float[] of(NDManager m, DepthLoss l, float[] p, float[] z, float[] mask, long... shape) {
        try (NDManager sub = m.newSubManager(); GradientCollector gc = Engine.getInstance().newGradientCollector()) {
            Shape s = new Shape(shape);
            NDArray x = sub.create(p, s);
            x.setRequiresGradient(true);
            NDArray v = l.compute(x, sub.create(z, s), sub.create(mask, s));
            gc.backward(v);
            float[] g = x.getGradient().toFloatArray();
            float[] out = new float[g.length + 1];
            out[0] = v.getFloat();
            System.arraycopy(g, 0, out, 1, g.length);
            return out;
        }
    }
}
