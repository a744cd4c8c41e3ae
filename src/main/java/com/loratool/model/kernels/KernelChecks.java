package com.loratool.model.kernels;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.training.GradientCollector;
import com.loratool.model.nn.ConvTranspose2d;
import com.loratool.model.nn.FusedAttention;
import com.loratool.model.nn.Interpolation;
import com.loratool.model.nn.Resampler;
import com.loratool.model.nn.Scalars;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Random;

/**
 * The native kernels the model and its training use, each at shapes that reach the kernels' edge
 * cases (channels that are not multiples of 8 or 16, one output channel, rank-4 and rank-8 LoRA
 * factors, stride 2, odd spatial sizes, batch 2), computed in float32 the way the model computes
 * them (the same DJL calls as {@code model.nn}) and compared with an independent float64
 * reference: forward and the gradient of every input. float64 takes other code paths in libtorch
 * (oneDNN has no float64 convolution; MKL's dgemm is not its sgemm), and attention and layer norm are
 * referenced by their plain formulas.
 */
public final class KernelChecks {
    /** Bumped whenever the list or a tolerance changes, so that cached verdicts are redone. */
    public static final int VERSION = 1;
    /** Largest relative L2 error of float32 against float64 (right kernels give ~1e-7). */
    public static final double TOLERANCE = 1e-4;

    private KernelChecks() {}

    /** A computation of the model, given its inputs (activations first, then weights). */
    @FunctionalInterface
    public interface Op {
        NDArray apply(NDList in);
    }

    /**
     * One check: {@code kernel} in float32 against {@code reference} in float64 on seeded random
     * inputs of {@code inputs} shapes (named by {@code names}).
     */
    public record Check(String op, String shape, List<String> names, List<long[]> inputs, Op kernel, Op reference) {
        public Check {
            names = List.copyOf(names);
            inputs = List.copyOf(inputs);
        }
    }

    /** The worst part of one check: "forward", "gradient of x" ...; its relative L2 error. */
    public record Outcome(String part, double error) {
        public boolean pass() {
            return error <= TOLERANCE; // NaN fails
        }
    }

    /** What a test may do to the float32 results before they are compared (null: nothing). */
    @FunctionalInterface
    public interface Tamper {
        void apply(Check check, String part, float[] values);
    }

    private static final Shape ONE = new Shape(1, 1);

    private static Check conv(int b, int in, int out, int k, int stride, int pad, int h, int w, String note) {
        Shape s = new Shape(stride, stride);
        Shape p = new Shape(pad, pad);
        Op op = x -> ai.djl.nn.convolutional.Conv2d.conv2d(x.get(0), x.get(1), x.get(2), s, p, ONE, 1).singletonOrThrow();
        String shape = String.format(Locale.ROOT, "%dx%d %d->%d stride %d, input %dx%dx%dx%d%s", k, k, in, out, stride, b,
                in, h, w, note);
        return new Check("convolution", shape, List.of("input", "weight", "bias"),
                List.of(new long[] {b, in, h, w}, new long[] {out, in, k, k}, new long[] {out}), op, op);
    }

    private static Check linear(int b, int n, int in, int out, String note) {
        Op op = x -> ai.djl.nn.core.Linear.linear(x.get(0), x.get(1), x.get(2)).singletonOrThrow();
        return new Check("linear", String.format(Locale.ROOT, "%d->%d, input %dx%dx%d%s", in, out, b, n, in, note),
                List.of("input", "weight", "bias"), List.of(new long[] {b, n, in}, new long[] {out, in}, new long[] {out}),
                op, op);
    }

    private static Check layerNorm(int b, int n, int d, float eps) {
        Op kernel = x -> ai.djl.nn.norm.LayerNorm.layerNorm(x.get(0), new Shape(d), x.get(1), x.get(2), eps)
                .singletonOrThrow();
        Op reference = x -> {
            NDArray mean = x.get(0).mean(new int[] {-1}, true);
            NDArray c = x.get(0).sub(mean);
            NDArray var = c.mul(c).mean(new int[] {-1}, true);
            return c.div(var.add(eps).sqrt()).mul(x.get(1)).add(x.get(2));
        };
        return new Check("layer norm", String.format(Locale.ROOT, "%d, eps %.0e, input %dx%dx%d", d, eps, b, n, d),
                List.of("input", "weight", "bias"), List.of(new long[] {b, n, d}, new long[] {d}, new long[] {d}),
                kernel, reference);
    }

    private static Check attention(int b, int n, int heads, int headDim) {
        int d = heads * headDim;
        Op kernel = x -> FusedAttention.forward(x.get(0), heads);
        Op reference = x -> {
            NDArray t = x.get(0).reshape(b, n, 3, heads, headDim).transpose(2, 0, 3, 1, 4);
            NDArray q = Scalars.mul(t.get(0), 1.0 / Math.sqrt(headDim));
            NDArray attn = q.matMul(t.get(1).transpose(0, 1, 3, 2)).softmax(-1);
            return attn.matMul(t.get(2)).transpose(0, 2, 1, 3).reshape(b, n, d);
        };
        return new Check("attention", String.format(Locale.ROOT, "%d heads x %d, qkv %dx%dx%d", heads, headDim, b, n, 3 * d),
                List.of("qkv"), List.of(new long[] {b, n, 3 * d}), kernel, reference);
    }

    private static Check transposedConv(int b, int c, int k, int h, int w) {
        Op op = x -> ConvTranspose2d.forward(x.get(0), x.get(1), x.get(2), k);
        return new Check("transposed convolution", String.format(Locale.ROOT, "%dx%d %d->%d stride %d, input %dx%dx%dx%d",
                k, k, c, c, k, b, c, h, w), List.of("input", "weight", "bias"),
                List.of(new long[] {b, c, h, w}, new long[] {c, c, k, k}, new long[] {c}), op, op);
    }

    private static Check interpolation(String kind, int b, int c, int h, int w, int outH, int outW) {
        boolean bilinear = kind.equals("bilinear");
        float[] mh = bilinear ? Interpolation.bilinearAlignCorners(h, outH) : Interpolation.bicubic(h, outH, (double) outH / h);
        float[] mw = bilinear ? Interpolation.bilinearAlignCorners(w, outW) : Interpolation.bicubic(w, outW, (double) outW / w);
        Op op = x -> {
            DataType t = x.get(0).getDataType();
            NDManager m = x.get(0).getManager();
            NDArray h2 = m.create(mh, new Shape(outH, h)).toType(t, false);
            NDArray w2 = m.create(mw, new Shape(outW, w)).toType(t, false).transpose();
            return Resampler.apply(x.get(0), h2, w2);
        };
        return new Check("interpolation", String.format(Locale.ROOT, "%s %dx%d -> %dx%d, input %dx%dx%dx%d", kind, h, w,
                outH, outW, b, c, h, w), List.of("input"), List.of(new long[] {b, c, h, w}), op, op);
    }

    private static Check elementwise(String name, Op op, long... shape) {
        return new Check(name, "input " + dims(shape), List.of("input"), List.<long[]>of(shape), op, op);
    }

    /** The checks, in the order the model meets them. */
    public static List<Check> all() {
        List<Check> c = new ArrayList<>();
        c.add(conv(2, 3, 64, 14, 14, 0, 28, 42, " (patch embedding)"));
        c.add(layerNorm(2, 37, 64, 1e-6f));
        c.add(layerNorm(2, 35, 48, 1e-6f));
        c.add(linear(2, 37, 64, 192, " (qkv)"));
        c.add(linear(2, 37, 64, 4, " (LoRA A, rank 4)"));
        c.add(linear(2, 37, 8, 192, " (LoRA B, rank 8)"));
        c.add(linear(2, 37, 256, 64, ""));
        c.add(attention(2, 37, 4, 16));
        c.add(attention(1, 35, 3, 16));
        c.add(elementwise("GELU", x -> Activation.gelu(x.get(0)), 2, 37, 256));
        c.add(conv(2, 64, 12, 1, 1, 0, 7, 9, " (projection)"));
        c.add(conv(2, 48, 48, 1, 1, 0, 7, 9, ""));
        c.add(transposedConv(2, 12, 4, 5, 7));
        c.add(transposedConv(2, 24, 2, 5, 7));
        c.add(conv(2, 48, 48, 3, 2, 1, 9, 11, " (resize)"));
        c.add(conv(2, 64, 64, 3, 2, 1, 7, 9, ""));
        c.add(conv(2, 24, 24, 3, 2, 1, 9, 11, ""));
        c.add(conv(2, 12, 24, 3, 1, 1, 9, 11, " (layer_rn)"));
        c.add(conv(2, 24, 24, 3, 1, 1, 9, 11, ""));
        c.add(conv(2, 16, 16, 3, 1, 1, 9, 11, ""));
        c.add(conv(2, 16, 8, 3, 1, 1, 9, 11, " (output_conv1)"));
        c.add(conv(2, 16, 4, 3, 1, 1, 9, 11, " (LoRA A, rank 4)"));
        c.add(conv(2, 64, 8, 3, 1, 1, 7, 9, " (LoRA A, rank 8)"));
        c.add(conv(2, 16, 1, 3, 1, 1, 9, 11, " (one channel)"));
        c.add(conv(2, 4, 24, 1, 1, 0, 9, 11, " (LoRA B, rank 4)"));
        c.add(conv(2, 3, 5, 3, 1, 1, 13, 17, ""));
        c.add(interpolation("bilinear", 2, 12, 9, 11, 18, 22));
        c.add(interpolation("bicubic", 1, 64, 37, 37, 9, 13));
        c.add(elementwise("ReLU, sigmoid, exp", x -> Activation.relu(x.get(0)).add(Activation.sigmoid(x.get(0)))
                .add(x.get(0).exp()), 2, 12, 9, 11));
        return c;
    }

    /**
     * Runs {@code check} once: seeded inputs, the kernel in float32 and the reference in float64,
     * loss {@code sum(y * g)} for a seeded g, so every gradient is g pulled back; the worst of the
     * forward and the gradients. {@code tamper} (tests only) may change the float32 results first.
     */
    public static Outcome run(Check check, NDManager parent, long seed, Tamper tamper) {
        Random rnd = new Random(seed);
        List<double[]> values = new ArrayList<>();
        for (long[] shape : check.inputs()) {
            values.add(gaussian(rnd, shape, 1.0 / Math.sqrt(fanIn(shape))));
        }
        try (NDManager m = parent.newSubManager()) {
            Result single;
            Result dbl;
            try {
                single = evaluate(check, check.kernel(), m, values, DataType.FLOAT32, seed);
                dbl = evaluate(check, check.reference(), m, values, DataType.FLOAT64, seed);
            } catch (RuntimeException e) { // a kernel that throws is as wrong as one that computes nonsense
                String why = String.valueOf(e.getMessage()).lines().findFirst().orElse("");
                return new Outcome("failed (" + e.getClass().getSimpleName() + ": "
                        + why.substring(0, Math.min(120, why.length())) + ")", Double.NaN);
            }
            Outcome worst = null;
            for (int i = 0; i < single.parts().size(); i++) {
                float[] got = single.values().get(i);
                if (tamper != null) {
                    tamper.apply(check, single.parts().get(i), got);
                }
                double e = relativeError(got, dbl.doubles().get(i));
                if (worst == null || badness(e) > badness(worst.error())) {
                    worst = new Outcome(single.parts().get(i), e);
                }
            }
            return worst;
        }
    }

    private record Result(List<String> parts, List<float[]> values, List<double[]> doubles) { }

    private static Result evaluate(Check check, Op op, NDManager parent, List<double[]> values, DataType type, long seed) {
        try (NDManager m = parent.newSubManager()) {
            NDList in = new NDList();
            for (int i = 0; i < values.size(); i++) {
                NDArray a = m.create(values.get(i), new Shape(check.inputs().get(i))).toType(type, false);
                a.setRequiresGradient(true);
                in.add(a);
            }
            List<String> parts = new ArrayList<>();
            List<float[]> single = new ArrayList<>();
            List<double[]> dbl = new ArrayList<>();
            try (GradientCollector gc = Engine.getEngine("PyTorch").newGradientCollector()) {
                NDArray y = op.apply(in);
                double[] g = gaussian(new Random(seed + 1), y.getShape().getShape(), 1.0);
                NDArray loss = y.mul(m.create(g, y.getShape()).toType(type, false)).sum();
                gc.backward(loss);
                add(parts, single, dbl, "forward", y);
                for (int i = 0; i < in.size(); i++) {
                    add(parts, single, dbl, "gradient of " + check.names().get(i), in.get(i).getGradient());
                }
            }
            return new Result(parts, single, dbl);
        }
    }

    private static void add(List<String> parts, List<float[]> single, List<double[]> dbl, String part, NDArray a) {
        parts.add(part);
        if (a.getDataType() == DataType.FLOAT64) {
            double[] d = a.toDoubleArray();
            dbl.add(d);
            single.add(null);
        } else {
            single.add(a.toFloatArray());
            dbl.add(null);
        }
    }

    private static double badness(double e) {
        return Double.isNaN(e) ? Double.POSITIVE_INFINITY : e;
    }

    /** Relative L2 error of {@code got} against {@code want}; NaN when any value is not finite. */
    static double relativeError(float[] got, double[] want) {
        if (got == null || want == null || got.length != want.length) {
            return Double.NaN;
        }
        double num = 0;
        double den = 0;
        for (int i = 0; i < got.length; i++) {
            if (!Float.isFinite(got[i])) {
                return Double.NaN;
            }
            double d = got[i] - want[i];
            num += d * d;
            den += want[i] * want[i];
        }
        return den == 0 ? (num == 0 ? 0 : Double.POSITIVE_INFINITY) : Math.sqrt(num / den);
    }

    private static double[] gaussian(Random rnd, long[] shape, double scale) {
        long n = 1;
        for (long s : shape) {
            n *= s;
        }
        double[] v = new double[(int) n];
        for (int i = 0; i < v.length; i++) {
            v[i] = rnd.nextGaussian() * scale;
        }
        return v;
    }

    private static long fanIn(long[] shape) {
        long n = 1;
        for (int i = 1; i < shape.length; i++) {
            n *= shape[i];
        }
        return shape.length == 1 ? 1 : Math.max(1, n);
    }

    static String dims(long[] shape) {
        return String.join("x", Arrays.stream(shape).mapToObj(Long::toString).toList());
    }
}
