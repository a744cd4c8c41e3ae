package com.loratool.model.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import org.junit.jupiter.api.Test;

class FusedAttentionTest {
    /**
     * The reference: DINOv2's Attention between qkv and proj written out op by op
     * (reshape, q * hd^-0.5, softmax(q k^T), A v, back to (B,N,D)).
     */
    private static NDArray explicit(NDArray qkv, int heads) {
        long b = qkv.getShape().get(0);
        long n = qkv.getShape().get(1);
        long d = qkv.getShape().get(2) / 3;
        NDArray t = qkv.reshape(b, n, 3, heads, d / heads).transpose(2, 0, 3, 1, 4);
        NDArray q = Scalars.mul(t.get(0), Math.pow(d / heads, -0.5));
        NDArray a = q.matMul(t.get(1).transpose(0, 1, 3, 2)).softmax(-1);
        return a.matMul(t.get(2)).transpose(0, 2, 1, 3).reshape(b, n, d);
    }

    private static float[][] valueAndGradient(boolean fused, float[] data, Shape shape, float[] upstream, int heads) {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray qkv = m.create(data, shape);
            NDArray w = m.create(upstream, new Shape(shape.get(0), shape.get(1), shape.get(2) / 3));
            qkv.setRequiresGradient(true);
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                NDArray y = fused ? FusedAttention.forward(qkv, heads) : explicit(qkv, heads);
                assertEquals(w.getShape(), y.getShape());
                gc.backward(y.mul(w).sum());
                return new float[][] {y.toFloatArray(), qkv.getGradient().toFloatArray()};
            }
        }
    }

    @Test
    void matchesTheExplicitSoftmaxAttentionForwardAndBackward() {
        int heads = 3;
        Shape shape = new Shape(2, 37, 3 * 3 * 8); // B=2, N=37, D=24, head dim 8
        java.util.Random r = new java.util.Random(7);
        float[] data = new float[(int) shape.size()];
        for (int i = 0; i < data.length; i++) {
            data[i] = (float) r.nextGaussian() * 2f;
        }
        float[] upstream = new float[data.length / 3];
        for (int i = 0; i < upstream.length; i++) {
            upstream[i] = (float) r.nextGaussian();
        }
        float[][] ref = valueAndGradient(false, data, shape, upstream, heads);
        float[][] fused = valueAndGradient(true, data, shape, upstream, heads);
        assertArrayEquals(ref[0], fused[0], 2e-5f, "forward");
        assertArrayEquals(ref[1], fused[1], 2e-5f, "gradient of qkv");
        float max = 0;
        for (float g : fused[1]) {
            max = Math.max(max, Math.abs(g));
        }
        assertTrue(max > 0.01f, "the gradient reaches qkv: " + max);
    }

    @Test
    void runsWithoutAutogradForInference() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray qkv = m.randomNormal(new Shape(1, 5, 36));
            NDArray y = FusedAttention.forward(qkv, 2);
            assertArrayEquals(explicit(qkv, 2).toFloatArray(), y.toFloatArray(), 2e-5f);
        }
    }
}
