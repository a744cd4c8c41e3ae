package com.loratool.model.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.HashMap;
import java.util.Map;

/**
 * Applies separable interpolation matrices to (..., H, W) arrays. The matrices are constants,
 * built once per (kind, in, out) and kept in the owner's manager (normally the model's); results
 * are attached to the input's manager so that nothing per-call stays in the owner's manager.
 */
public final class Resampler {
    private final NDManager manager;
    private final Map<String, NDArray> cache = new HashMap<>();

    public Resampler(NDManager manager) {
        this.manager = manager;
    }

    /** Bilinear, align_corners=True: x (..., H, W) → (..., outH, outW). */
    public NDArray bilinearAlignCorners(NDArray x, int outH, int outW) {
        Shape s = x.getShape();
        int h = (int) s.get(s.dimension() - 2);
        int w = (int) s.get(s.dimension() - 1);
        if (h == outH && w == outW) {
            return x; // identity for align_corners=True at the same size
        }
        NDArray mh = matrix("bl", h, outH, 0, false);
        NDArray mwT = matrix("bl", w, outW, 0, true);
        return apply(x, mh, mwT);
    }

    /** x (..., H, W) → mh (H',H) · x · mwT (W,W'); result attached to x's manager. */
    public static NDArray apply(NDArray x, NDArray mh, NDArray mwT) {
        NDArray y = x.matMul(mwT); // (..., H, W')
        NDArray z = mh.matMul(y); // (..., H', W'), created in mh's manager
        z.attach(x.getManager());
        return z;
    }

    /**
     * The cached (out, in) matrix, or its transpose (in, out) when {@code transposed}; kind "bl"
     * (bilinear align_corners) or "bc" (bicubic with the given scale factor).
     */
    public NDArray matrix(String kind, int in, int out, double scaleFactor, boolean transposed) {
        String key = kind + ":" + in + ":" + out + ":" + scaleFactor + ":" + transposed;
        NDArray m = cache.get(key);
        if (m == null) {
            float[] data = kind.equals("bl")
                    ? Interpolation.bilinearAlignCorners(in, out)
                    : Interpolation.bicubic(in, out, scaleFactor);
            if (transposed) {
                float[] t = new float[data.length];
                for (int i = 0; i < out; i++) {
                    for (int j = 0; j < in; j++) {
                        t[j * out + i] = data[i * in + j];
                    }
                }
                m = manager.create(t, new Shape(in, out));
            } else {
                m = manager.create(data, new Shape(out, in));
            }
            cache.put(key, m);
        }
        return m;
    }
}
