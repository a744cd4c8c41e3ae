package com.loratool.lora;

import com.loratool.io.HostTensor;
import java.util.Arrays;

/**
 * The two LoRA matrices of one adapted layer, as stored in {@code adapter.safetensors}:
 * linear A (r, in), B (out, r); convolution A (r, in, k, k), B (out, r, 1, 1). The layer's update
 * is {@code scaling * B A}, which for a convolution is the k x k kernel
 * {@code dW[o, i, :, :] = scaling * sum_j B[o, j] A[j, i, :, :]} (A's stride and padding are the
 * base layer's, B is 1 x 1, so the two convolutions compose into one).
 *
 * <p>With DoRA, {@code magnitude} (out) is the trained magnitude vector m and the adapted weight
 * is {@code m / ||W + s B A|| * (W + s B A)}, the norm per output feature (row) — PEFT's
 * {@code DoraLinearLayer} and its merge. Null for plain LoRA.
 */
public record LoraPair(HostTensor a, HostTensor b, HostTensor magnitude) {
    public LoraPair(HostTensor a, HostTensor b) {
        this(a, b, null);
    }

    public LoraPair {
        if (magnitude != null && (magnitude.shape().length != 1 || magnitude.shape()[0] != b.shape()[0])) {
            throw new IllegalArgumentException("DoRA magnitude " + magnitude.shapeString() + " must be (out) = ("
                    + b.shape()[0] + ")");
        }
        if (a.shape().length < 2 || b.shape().length < 2 || a.shape()[0] != b.shape()[1]) {
            throw new IllegalArgumentException("LoRA A " + a.shapeString() + " and B " + b.shapeString()
                    + " do not chain (A is (r, in...), B is (out, r...))");
        }
        for (int d = 2; d < b.shape().length; d++) {
            if (b.shape()[d] != 1) {
                throw new IllegalArgumentException("LoRA B " + b.shapeString() + " must be 1x1 beyond (out, r)");
            }
        }
    }

    public boolean dora() {
        return magnitude != null;
    }

    /** The same pair with a DoRA magnitude vector (null: plain LoRA). */
    public LoraPair withMagnitude(HostTensor m) {
        return new LoraPair(a, b, m);
    }

    public int rank() {
        return (int) a.shape()[0];
    }

    public int outFeatures() {
        return (int) b.shape()[0];
    }

    /** Values per row of A: in (linear) or in * k * k (convolution). */
    public int inSize() {
        return (int) (a.numel() / rank());
    }

    /** Shape of the base weight this pair updates: (out, in) or (out, in, k, k). */
    public long[] weightShape() {
        long[] s = a.shape().clone();
        s[0] = b.shape()[0];
        return s;
    }

    /**
     * The delta weight {@code scaling * B A} in the base weight's shape (PEFT's
     * {@code get_delta_weight}), summed in double and rounded to float32 once. The one B·A of the
     * project: merges, merged exports, in-place merges and the PEFT checks all call it.
     */
    public HostTensor delta(double scaling) {
        if (dora()) {
            throw new IllegalStateException("a DoRA update depends on the base weight: use mergeInto");
        }
        double[] d = deltaValues(scaling);
        float[] f = new float[d.length];
        for (int i = 0; i < d.length; i++) {
            f[i] = (float) d[i];
        }
        return new HostTensor(weightShape(), f);
    }

    /**
     * {@code weight + scaling * B A}; with DoRA {@code m / ||W + s B A|| * (W + s B A)} per output
     * row (PEFT's merge). Float32 result, formed in double and rounded once.
     */
    public HostTensor mergeInto(HostTensor weight, double scaling) {
        if (!Arrays.equals(weight.shape(), weightShape())) {
            throw new IllegalArgumentException("base weight " + weight.shapeString() + " does not match the adapter's "
                    + Arrays.toString(weightShape()));
        }
        double[] d = deltaValues(scaling);
        float[] w = weight.data();
        for (int i = 0; i < w.length; i++) {
            d[i] += w[i];
        }
        if (dora()) {
            int in = inSize();
            float[] mv = magnitude.data();
            for (int o = 0; o < outFeatures(); o++) {
                double sq = 0;
                for (int i = o * in; i < (o + 1) * in; i++) {
                    sq += d[i] * d[i];
                }
                double f = mv[o] / Math.sqrt(sq);
                for (int i = o * in; i < (o + 1) * in; i++) {
                    d[i] *= f;
                }
            }
        }
        float[] m = new float[w.length];
        for (int i = 0; i < w.length; i++) {
            m[i] = (float) d[i];
        }
        return new HostTensor(weight.shape().clone(), m);
    }

    /**
     * Merges this adapter, named {@code adapted}, into the weight of its module: the whole weight,
     * or for a qkv slice ({@link QkvSlice}) the slice's rows of the fused weight.
     */
    public HostTensor mergeIntoModule(String adapted, HostTensor moduleWeight, double scaling) {
        QkvSlice slice = QkvSlice.parse(adapted);
        if (slice == null) {
            return mergeInto(moduleWeight, scaling);
        }
        return slice.withRows(moduleWeight, mergeInto(slice.rows(moduleWeight), scaling));
    }

    /** Shape of the module weight this adapter, named {@code adapted}, belongs to. */
    public long[] moduleWeightShape(String adapted) {
        return QkvSlice.parse(adapted) == null ? weightShape() : QkvSlice.fusedShape(weightShape());
    }

    /** DoRA's initial magnitude: the L2 norm of each output row of {@code weight} (in double, rounded once). */
    public static HostTensor rowNorms(HostTensor weight) {
        int out = (int) weight.shape()[0];
        int in = (int) (weight.numel() / out);
        float[] w = weight.data();
        float[] n = new float[out];
        for (int o = 0; o < out; o++) {
            double sq = 0;
            for (int i = o * in; i < (o + 1) * in; i++) {
                sq += (double) w[i] * w[i];
            }
            n[o] = (float) Math.sqrt(sq);
        }
        return new HostTensor(new long[] {out}, n);
    }

    /** {@code scaling * sum_j B[o, j] A[j, i]} for every (o, i) in row-major order, in double. */
    private double[] deltaValues(double scaling) {
        int r = rank();
        int out = outFeatures();
        int in = inSize();
        float[] av = a.data();
        float[] bv = b.data();
        double[] d = new double[out * in];
        for (int o = 0; o < out; o++) {
            int row = o * in;
            for (int j = 0; j < r; j++) {
                double bj = bv[o * r + j];
                if (bj == 0) {
                    continue;
                }
                int off = j * in;
                for (int i = 0; i < in; i++) {
                    d[row + i] += bj * av[off + i];
                }
            }
            for (int i = 0; i < in; i++) {
                d[row + i] *= scaling;
            }
        }
        return d;
    }
}
