package com.loratool.lora;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.loratool.LoraException;
import com.loratool.config.LoraConfig;
import com.loratool.io.HostTensor;
import com.loratool.model.nn.Linear;
import com.loratool.model.nn.Scalars;
import java.util.List;

/**
 * LoRA on a linear layer: delta(x) = scaling * dropout(x) A^T B^T, x (..., in) -> (..., out).
 * Stored transposed, A^T (in, r) and B^T (r, out), so that each step multiplies the activation
 * first (results attach to the step's manager, nothing to the model's).
 *
 * <p>On a qkv slice ({@link QkvSlice}) "out" is the slice's rows and W the slice's block of the
 * fused weight; {@link QkvSliceAdapter} places the output in the fused layer's.
 *
 * <p>DoRA (PEFT's {@code DoraLinearLayer.forward}): with m the magnitude (trainable, initialised to
 * the row norms of W) and n = ||W + s B A|| per output row, computed on a detached B A,
 * delta(x) = (m / n) (W x + s B A x) - W x on the dropped-out input, so that the layer's output is
 * the merged weight {@code m / n (W + s B A)} applied to x (plus the bias).
 */
public final class LoraLinear extends LoraLayer {
    private final int in;
    private final int out;
    private final NDArray aT; // (in, r)
    private final NDArray bT; // (r, out)
    private final NDArray magnitude; // (out), DoRA only
    private final NDArray wT; // (in, out) frozen base block, DoRA only

    /** {@code slice}: the qkv part this adapter acts on, or null for the whole layer. */
    public LoraLinear(String name, Linear base, QkvSlice slice, LoraScaling scaling, LoraConfig cfg, long seed,
                      NDManager manager) {
        super(name, scaling, cfg);
        this.in = (int) base.inFeatures();
        this.out = slice == null ? (int) base.outFeatures() : (int) base.outFeatures() / 3;
        float[] a = initA(r * in, in, r, cfg.init().name(), rngFor(seed, name)); // (r, in)
        this.aT = leaf(manager, transpose(a, r, in), new Shape(in, r));
        this.bT = leaf(manager, new float[r * out], new Shape(r, out));
        if (cfg.dora()) {
            NDArray w = base.weight().array();
            HostTensor full = new HostTensor(w.getShape().getShape(), w.toFloatArray());
            HostTensor block = slice == null ? full : slice.rows(full);
            this.magnitude = leaf(manager, LoraPair.rowNorms(block).data(), new Shape(out));
            this.wT = manager.create(transpose(block.data(), out, in), new Shape(in, out));
        } else {
            this.magnitude = null;
            this.wT = null;
        }
    }

    @Override
    public NDArray delta(NDArray x) {
        NDArray xd = maybeDropout(x);
        NDArray lora = Scalars.mul(xd.matMul(aT).matMul(bT), scaling.value());
        if (magnitude == null) {
            return lora;
        }
        NDManager step = x.getManager();
        NDArray baT;
        try (NDArray eye = step.eye(in)) {
            baT = eye.matMul(aT).matMul(bT).stopGradient(); // (B A)^T, (in, out), no gradient (PEFT detaches)
        }
        NDArray norm = Scalars.mul(baT, scaling.value()).add(wT).square().sum(new int[] {0}).sqrt();
        NDArray mag = step.ones(norm.getShape(), norm.getDataType()).div(norm).mul(magnitude); // m / n, (out)
        NDArray base = xd.matMul(wT);
        return base.add(lora).mul(mag).sub(base);
    }

    @Override
    public List<NDArray> trainable() {
        return magnitude == null ? List.of(aT, bT) : List.of(aT, bT, magnitude);
    }

    @Override
    public HostTensor loraA() {
        return new HostTensor(new long[] {r, in}, transpose(aT.toFloatArray(), in, r));
    }

    @Override
    public HostTensor loraB() {
        return new HostTensor(new long[] {out, r}, transpose(bT.toFloatArray(), r, out));
    }

    @Override
    public HostTensor magnitude() {
        return magnitude == null ? null : new HostTensor(new long[] {out}, magnitude.toFloatArray());
    }

    @Override
    public void load(HostTensor a, HostTensor b) {
        checkShape(name, "lora_A.weight", a, r, in);
        checkShape(name, "lora_B.weight", b, out, r);
        setData(aT, transpose(a.data(), r, in));
        setData(bT, transpose(b.data(), out, r));
    }

    @Override
    protected void loadMagnitude(HostTensor m) {
        if ((m == null) != (magnitude == null)) {
            throw new LoraException(name + ": " + (m == null ? "DoRA layer without lora_magnitude_vector"
                    : "lora_magnitude_vector given but the layer is not DoRA (lora.dora: false)"));
        }
        if (m != null) {
            checkShape(name, "lora_magnitude_vector", m, out);
            setData(magnitude, m.data());
        }
    }

    @Override
    public void close() {
        super.close();
        if (wT != null) {
            wT.close();
        }
    }

    public int inFeatures() {
        return in;
    }

    /** Output features this adapter produces (the slice's rows for a qkv slice). */
    public int outFeatures() {
        return out;
    }
}
