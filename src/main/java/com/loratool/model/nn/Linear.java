package com.loratool.model.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;

/** {@code torch.nn.Linear}: x (..., in) → (..., out) = x W^T + b (+ adapter delta). */
public final class Linear extends Module {
    private final Parameter weight;
    private final Parameter bias;
    private final int in;
    private final int out;
    private LayerAdapter adapter;

    public Linear(NDManager manager, int in, int out) {
        this.in = in;
        this.out = out;
        weight = addParameter(manager, "weight", out, in);
        bias = addParameter(manager, "bias", out);
    }

    public int inFeatures() {
        return in;
    }

    public int outFeatures() {
        return out;
    }

    public Parameter weight() {
        return weight;
    }

    public Parameter bias() {
        return bias;
    }

    public NDArray forward(NDArray x) {
        NDArray y = ai.djl.nn.core.Linear.linear(x, weight.array(), bias.array()).singletonOrThrow();
        if (adapter != null) {
            y = y.add(adapter.delta(x));
        }
        return y;
    }

    public void setAdapter(LayerAdapter adapter) {
        this.adapter = adapter;
    }

    public LayerAdapter adapter() {
        return adapter;
    }
}
