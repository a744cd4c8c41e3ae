package com.loratool.lora;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.loratool.config.LoraConfig;
import com.loratool.io.HostTensor;
import com.loratool.model.nn.Linear;
import com.loratool.model.nn.Scalars;
import java.util.List;

/**
 * LoRA on a linear layer: delta(x) = scaling * dropout(x) A^T B^T, x (..., in) -> (..., out).
 * Stored transposed, A^T (in, r) and B^T (r, out), so that each step multiplies the activation
 * first (results attach to the step's manager, nothing to the model's).
 */
public final class LoraLinear extends LoraLayer {
    private final int in;
    private final int out;
    private final NDArray aT; // (in, r)
    private final NDArray bT; // (r, out)

    public LoraLinear(String name, Linear base, LoraScaling scaling, LoraConfig cfg, long seed, NDManager manager) {
        super(name, scaling, cfg);
        this.in = (int) base.inFeatures();
        this.out = (int) base.outFeatures();
        float[] a = initA(r * in, in, r, cfg.init, rngFor(seed, name)); // (r, in)
        this.aT = leaf(manager, transpose(a, r, in), new Shape(in, r));
        this.bT = leaf(manager, new float[r * out], new Shape(r, out));
    }

    @Override
    public NDArray delta(NDArray x) {
        return Scalars.mul(maybeDropout(x).matMul(aT).matMul(bT), scaling.value());
    }

    @Override
    public List<NDArray> trainable() {
        return List.of(aT, bT);
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
    public void load(HostTensor a, HostTensor b) {
        checkShape(name, "lora_A.weight", a, r, in);
        checkShape(name, "lora_B.weight", b, out, r);
        setData(aT, transpose(a.data(), r, in));
        setData(bT, transpose(b.data(), out, r));
    }

    /** Host layout of {@link #trainable()}: A^T then B^T (as the optimiser sees them). */
    public int inFeatures() {
        return in;
    }

    public int outFeatures() {
        return out;
    }
}
