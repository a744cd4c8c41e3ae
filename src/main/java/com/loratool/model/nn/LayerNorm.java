package com.loratool.model.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

/** {@code torch.nn.LayerNorm} over the last axis: params {@code weight}, {@code bias}. */
public final class LayerNorm extends Module {
    private final Parameter weight;
    private final Parameter bias;
    private final Shape normalized;
    private final float eps;

    public LayerNorm(NDManager manager, int dim, float eps) {
        this.weight = addParameter(manager, "weight", dim);
        this.bias = addParameter(manager, "bias", dim);
        this.normalized = new Shape(dim);
        this.eps = eps;
    }

    public NDArray forward(NDArray x) {
        return ai.djl.nn.norm.LayerNorm.layerNorm(x, normalized, weight.array(), bias.array(), eps)
                .singletonOrThrow();
    }
}
