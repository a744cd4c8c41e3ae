package com.loratool.model.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

/** {@code torch.nn.Conv2d} with a square kernel, groups 1: x (B,in,H,W) → (B,out,H',W'). */
public final class Conv2d extends Module {
    private final Parameter weight;
    private final Parameter bias;
    private final int in;
    private final int out;
    private final int kernel;
    private final int stride;
    private final int padding;
    private final Shape strideShape;
    private final Shape paddingShape;
    private static final Shape DILATION = new Shape(1, 1);
    private LayerAdapter adapter;

    public Conv2d(NDManager manager, int in, int out, int kernel, int stride, int padding, boolean bias) {
        this.in = in;
        this.out = out;
        this.kernel = kernel;
        this.stride = stride;
        this.padding = padding;
        this.strideShape = new Shape(stride, stride);
        this.paddingShape = new Shape(padding, padding);
        weight = addParameter(manager, "weight", out, in, kernel, kernel);
        this.bias = bias ? addParameter(manager, "bias", out) : null;
    }

    public NDArray forward(NDArray x) {
        NDArray y = ai.djl.nn.convolutional.Conv2d.conv2d(
                        x, weight.array(), bias == null ? null : bias.array(), strideShape, paddingShape, DILATION, 1)
                .singletonOrThrow();
        if (adapter != null) {
            y = y.add(adapter.delta(x));
        }
        return y;
    }

    public int inChannels() {
        return in;
    }

    public int outChannels() {
        return out;
    }

    public int kernelSize() {
        return kernel;
    }

    public int stride() {
        return stride;
    }

    public int padding() {
        return padding;
    }

    public Parameter weight() {
        return weight;
    }

    /** The bias, or null when the layer has none. */
    public Parameter bias() {
        return bias;
    }

    public void setAdapter(LayerAdapter adapter) {
        this.adapter = adapter;
    }

    public LayerAdapter adapter() {
        return adapter;
    }
}
