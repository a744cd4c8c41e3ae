package com.loratool.model.nn;

/**
 * 1-D interpolation matrices (out x in, row-major) that reproduce PyTorch's CPU kernels exactly;
 * a separable 2-D resize is then {@code Mh · X · Mw^T}. DJL's interpolate cannot be used: it
 * antialiases and does not honour align_corners the way the reference needs.
 */
public final class Interpolation {
    private static final float A = -0.75f; // PyTorch's cubic convolution coefficient

    private Interpolation() {}

    /**
     * {@code F.interpolate(mode="bicubic", align_corners=False, antialias=False, scale_factor=s)}
     * along one axis: the source coordinate uses 1/s (not in/out), indices are clamped to the
     * border, as in PyTorch's {@code upsample_bicubic2d}. Output length {@code out}.
     */
    public static float[] bicubic(int in, int out, double scaleFactor) {
        float ratio = (float) (1.0 / scaleFactor);
        float[] m = new float[out * in];
        for (int i = 0; i < out; i++) {
            float real = ratio * (i + 0.5f) - 0.5f; // cubic: no clamping at 0
            int idx = (int) Math.floor(real);
            float t = real - idx;
            float[] w = {cubic2(t + 1f), cubic1(t), cubic1(1f - t), cubic2(2f - t)};
            for (int j = 0; j < 4; j++) {
                int src = Math.max(0, Math.min(in - 1, idx - 1 + j));
                m[i * in + src] += w[j];
            }
        }
        return m;
    }

    private static float cubic1(float x) {
        return ((A + 2) * x - (A + 3)) * x * x + 1;
    }

    private static float cubic2(float x) {
        return ((A * x - 5 * A) * x + 8 * A) * x - 4 * A;
    }

    /**
     * {@code F.interpolate(mode="bilinear", align_corners=True)} along one axis: source
     * coordinate {@code i * (in-1)/(out-1)} (0 when out == 1), PyTorch's upsample_bilinear2d.
     */
    public static float[] bilinearAlignCorners(int in, int out) {
        float scale = out > 1 ? (float) (in - 1) / (out - 1) : 0f;
        float[] m = new float[out * in];
        for (int i = 0; i < out; i++) {
            float real = scale * i;
            int i0 = (int) real;
            float l1 = Math.min(Math.max(real - i0, 0f), 1f);
            int i1 = i0 + (i0 < in - 1 ? 1 : 0);
            m[i * in + i0] += 1f - l1;
            m[i * in + i1] += l1;
        }
        return m;
    }
}
