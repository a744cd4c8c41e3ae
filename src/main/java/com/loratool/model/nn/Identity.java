package com.loratool.model.nn;

import ai.djl.ndarray.NDArray;

/** {@code torch.nn.Identity}: keeps list indices aligned with the official module tree. */
public final class Identity extends Module {
    public NDArray forward(NDArray x) {
        return x;
    }
}
