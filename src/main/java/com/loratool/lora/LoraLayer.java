package com.loratool.lora;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.norm.Dropout;
import com.loratool.LoraException;
import com.loratool.config.LoraConfig;
import com.loratool.io.HostTensor;
import com.loratool.model.nn.LayerAdapter;
import java.nio.FloatBuffer;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The adapter maths shared by {@link LoraLinear} and {@link LoraConv2d} (PEFT's LoraLayer):
 * two trainable factors A (r x in...) and B (out x r...) and the layer's {@link LoraScaling}; the
 * layer's output gains {@code scaling * B A dropout(x)}. Host tensors use PEFT's layout: lora_A.weight (r, in) /
 * (r, in, k, k), lora_B.weight (out, r) / (out, r, 1, 1).
 */
public abstract class LoraLayer implements LayerAdapter, AutoCloseable {
    protected final String name;
    protected final int r;
    protected final LoraScaling scaling;
    protected final double dropout;
    protected boolean training;

    /** {@code scaling}: this layer's (r, alpha, rslora); {@code cfg}: dropout and A's initialisation. */
    protected LoraLayer(String name, LoraScaling scaling, LoraConfig cfg) {
        this.name = name;
        this.r = scaling.r();
        this.scaling = scaling;
        this.dropout = cfg.dropout();
    }

    /** Full official module name, e.g. pretrained.blocks.3.attn.qkv. */
    public String name() {
        return name;
    }

    public int rank() {
        return r;
    }

    /** This layer's (r, alpha, rslora); {@code scaling().value()} is what the forward multiplies by. */
    public LoraScaling scaling() {
        return scaling;
    }

    public void setTraining(boolean training) {
        this.training = training;
    }

    protected NDArray maybeDropout(NDArray x) {
        if (training && dropout > 0) {
            return Dropout.dropout(x, (float) dropout, true).singletonOrThrow();
        }
        return x;
    }

    /** The leaf arrays the optimiser updates (in their internal layout). */
    public abstract List<NDArray> trainable();

    /** Number of trainable values. */
    public long trainableCount() {
        return trainable().stream().mapToLong(NDArray::size).sum();
    }

    /** lora_A.weight in PEFT layout. */
    public abstract HostTensor loraA();

    /** lora_B.weight in PEFT layout. */
    public abstract HostTensor loraB();

    /** Sets both factors from PEFT-layout tensors (checkpoint loading). */
    public abstract void load(HostTensor a, HostTensor b);

    /** DoRA's magnitude vector (out), or null for plain LoRA. */
    public HostTensor magnitude() {
        return null;
    }

    /** Sets the factors and, for DoRA, the magnitude (which a DoRA layer requires and others refuse). */
    public void load(LoraPair p) {
        load(p.a(), p.b());
        loadMagnitude(p.magnitude());
    }

    protected void loadMagnitude(HostTensor m) {
        if (m != null) {
            throw new LoraException(name + ": lora_magnitude_vector given but DoRA adapts linear layers only");
        }
    }

    /** scaling * B A in the base weight's shape ((out, in) or (out, in, k, k)), for merging ({@link LoraPair#delta}). */
    public HostTensor deltaWeight() {
        return pair().delta(scaling.value());
    }

    /** The current factors (and DoRA magnitude), PEFT layout. */
    public LoraPair pair() {
        return new LoraPair(loraA(), loraB(), magnitude());
    }

    /** Frees the adapter's arrays. */
    @Override
    public void close() {
        for (NDArray a : trainable()) {
            a.close();
        }
    }

    /** Kaiming-uniform (a = sqrt 5): U(-1/sqrt(fanIn), 1/sqrt(fanIn)); or gaussian N(0, 1/r). */
    static float[] initA(int count, int fanIn, int r, String init, SplittableRandom rng) {
        float[] v = new float[count];
        if ("gaussian".equals(init)) {
            double std = 1.0 / r;
            for (int i = 0; i < count; i++) {
                v[i] = (float) (nextGaussian(rng) * std);
            }
        } else {
            double bound = 1.0 / Math.sqrt(fanIn);
            for (int i = 0; i < count; i++) {
                v[i] = (float) ((rng.nextDouble() * 2 - 1) * bound);
            }
        }
        return v;
    }

    private static double nextGaussian(SplittableRandom rng) {
        double u1 = 1 - rng.nextDouble();
        double u2 = rng.nextDouble();
        return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
    }

    /** A per-layer generator: same seed and name, same initial A. */
    static SplittableRandom rngFor(long seed, String name) {
        return new SplittableRandom(seed * 0x9E3779B97F4A7C15L + name.hashCode());
    }

    static NDArray leaf(NDManager manager, float[] data, Shape shape) {
        NDArray a = manager.create(data, shape);
        a.setRequiresGradient(true);
        return a;
    }

    static void checkShape(String name, String which, HostTensor t, long... expected) {
        if (!Arrays.equals(t.shape(), expected)) {
            throw new LoraException(name + "." + which + ": shape " + t.shapeString() + ", expected "
                    + Arrays.toString(expected));
        }
    }

    /** Row-major transpose of a (rows, cols) matrix. */
    static float[] transpose(float[] m, int rows, int cols) {
        float[] t = new float[m.length];
        for (int i = 0; i < rows; i++) {
            for (int j = 0; j < cols; j++) {
                t[j * rows + i] = m[i * cols + j];
            }
        }
        return t;
    }

    static void setData(NDArray target, float[] data) {
        target.set(FloatBuffer.wrap(data));
    }
}
