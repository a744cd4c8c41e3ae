package com.loratool.model.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Layers DJL lacks or that are easy to get subtly wrong, against brute force / closed forms. */
class LayersTest {
    private static float[] random(Random r, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) r.nextGaussian();
        }
        return a;
    }

    @Test
    void convTransposeMatchesBruteForce() {
        int b = 2, cin = 3, cout = 4, h = 2, w = 3;
        for (int k : new int[] {2, 4}) {
            Random r = new Random(k);
            float[] x = random(r, b * cin * h * w);
            float[] wt = random(r, cin * cout * k * k);
            float[] bias = random(r, cout);
            float[] want = new float[b * cout * h * k * w * k];
            int oh = h * k, ow = w * k;
            for (int n = 0; n < b; n++) {
                for (int o = 0; o < cout; o++) {
                    for (int y = 0; y < oh; y++) {
                        for (int xx = 0; xx < ow; xx++) {
                            double s = bias[o];
                            for (int i = 0; i < cin; i++) {
                                s += x[((n * cin + i) * h + y / k) * w + xx / k]
                                        * wt[((i * cout + o) * k + y % k) * k + xx % k];
                            }
                            want[((n * cout + o) * oh + y) * ow + xx] = (float) s;
                        }
                    }
                }
            }
            try (NDManager m = NDManager.newBaseManager()) {
                ConvTranspose2d layer = new ConvTranspose2d(m, cin, cout, k);
                layer.namedParameters().get("weight").set(m.create(wt, new Shape(cin, cout, k, k)));
                layer.namedParameters().get("bias").set(m.create(bias, new Shape(cout)));
                NDArray y = layer.forward(m.create(x, new Shape(b, cin, h, w)));
                assertArrayEquals(new long[] {b, cout, oh, ow}, y.getShape().getShape());
                assertArrayEquals(want, y.toFloatArray(), 1e-5f);
            }
        }
    }

    @Test
    void geluIsTheExactErfForm() {
        // 0.5 x (1 + erf(x / sqrt 2)); the tanh approximation differs by ~1e-4 around |x| = 2
        // (values from Python: math.erf).
        float[] xs = {-3f, -2f, -0.5f, 0f, 1f, 2f};
        float[] want = {-0.0040496941f, -0.045500264f, -0.15426877f, 0f, 0.84134475f, 1.9544997f};
        try (NDManager m = NDManager.newBaseManager()) {
            // tanh form would be off by 1.7e-5 .. 4e-4 at these points
            assertArrayEquals(want, Activation.gelu(m.create(xs)).toFloatArray(), 1e-6f);
        }
    }

    @Test
    void resamplerMatchesMatrixProduct() {
        try (NDManager m = NDManager.newBaseManager()) {
            Resampler rs = new Resampler(m);
            float[] x = {1, 2, 3, 4}; // 2x2
            NDArray y = rs.bilinearAlignCorners(m.create(x, new Shape(1, 1, 2, 2)), 3, 3);
            assertArrayEquals(new float[] {1, 1.5f, 2, 2, 2.5f, 3, 3, 3.5f, 4}, y.toFloatArray(), 1e-6f);
            assertEquals(3, y.getShape().get(2));
        }
    }
}
