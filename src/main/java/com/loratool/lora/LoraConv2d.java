package com.loratool.lora;

import static ai.djl.nn.convolutional.Conv2d.conv2d;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.loratool.config.LoraConfig;
import com.loratool.io.HostTensor;
import com.loratool.model.nn.Conv2d;
import com.loratool.model.nn.Scalars;
import java.util.List;

/**
 * Conv LoRA (as PEFT's Conv2d): A is a k x k convolution from in to r channels with the base
 * convolution's stride and padding, B a 1x1 convolution from r to out channels;
 * delta(x) = scaling * B(A(dropout(x))), shaped like the base convolution's output.
 */
public final class LoraConv2d extends LoraLayer {
    private final int in;
    private final int out;
    private final int k;
    private final Shape stride;
    private final Shape padding;
    private final NDArray a; // (r, in, k, k)
    private final NDArray b; // (out, r, 1, 1)

    public LoraConv2d(String name, Conv2d base, LoraScaling scaling, LoraConfig cfg, long seed, NDManager manager) {
        super(name, scaling, cfg);
        this.out = base.outChannels();
        this.in = base.inChannels();
        this.k = base.kernelSize();
        this.stride = new Shape(base.stride(), base.stride());
        this.padding = new Shape(base.padding(), base.padding());
        int fanIn = in * k * k;
        this.a = leaf(manager, initA(r * fanIn, fanIn, r, cfg.init().name(), rngFor(seed, name)), new Shape(r, in, k, k));
        this.b = leaf(manager, new float[out * r], new Shape(out, r, 1, 1));
    }

    @Override
    public NDArray delta(NDArray x) {
        NDArray h = conv2d(maybeDropout(x), a, null, stride, padding).singletonOrThrow();
        return Scalars.mul(conv2d(h, b).singletonOrThrow(), scaling.value());
    }

    @Override
    public List<NDArray> trainable() {
        return List.of(a, b);
    }

    @Override
    public HostTensor loraA() {
        return new HostTensor(new long[] {r, in, k, k}, a.toFloatArray());
    }

    @Override
    public HostTensor loraB() {
        return new HostTensor(new long[] {out, r, 1, 1}, b.toFloatArray());
    }

    @Override
    public void load(HostTensor ha, HostTensor hb) {
        checkShape(name, "lora_A.weight", ha, r, in, k, k);
        checkShape(name, "lora_B.weight", hb, out, r, 1, 1);
        setData(a, ha.data());
        setData(b, hb.data());
    }
}
