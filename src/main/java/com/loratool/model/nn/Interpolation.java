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

    /**
     * A plane {@code h x w} (row-major) resized bilinear, align_corners=True, to {@code oh x ow}, in
     * Java with the weights of {@link #bilinearAlignCorners} (as the toolkit's Resampler; two taps per
     * axis); the same array when the size is unchanged.
     */
    public static float[] resizeBilinearAlignCorners(float[] x, int h, int w, int oh, int ow) {
        if (h == oh && w == ow) {
            return x;
        }
        int[][] ri = new int[oh][];
        float[][] rw = new float[oh][];
        taps(bilinearAlignCorners(h, oh), h, oh, ri, rw);
        int[][] ci = new int[ow][];
        float[][] cw = new float[ow][];
        taps(bilinearAlignCorners(w, ow), w, ow, ci, cw);
        float[] tmp = new float[h * ow]; // x · Mw^T
        for (int r = 0; r < h; r++) {
            for (int j = 0; j < ow; j++) {
                float s = 0;
                for (int t = 0; t < ci[j].length; t++) {
                    s += x[r * w + ci[j][t]] * cw[j][t];
                }
                tmp[r * ow + j] = s;
            }
        }
        float[] out = new float[oh * ow]; // Mh · tmp
        for (int i = 0; i < oh; i++) {
            for (int j = 0; j < ow; j++) {
                float s = 0;
                for (int t = 0; t < ri[i].length; t++) {
                    s += rw[i][t] * tmp[ri[i][t] * ow + j];
                }
                out[i * ow + j] = s;
            }
        }
        return out;
    }

    private static void taps(float[] m, int in, int out, int[][] idx, float[][] wt) {
        for (int i = 0; i < out; i++) {
            int c = 0;
            for (int j = 0; j < in; j++) {
                if (m[i * in + j] != 0) {
                    c++;
                }
            }
            idx[i] = new int[c];
            wt[i] = new float[c];
            c = 0;
            for (int j = 0; j < in; j++) {
                if (m[i * in + j] != 0) {
                    idx[i][c] = j;
                    wt[i][c++] = m[i * in + j];
                }
            }
        }
    }
}
