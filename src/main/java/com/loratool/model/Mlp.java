package com.loratool.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Activation;
import com.loratool.model.nn.Linear;
import com.loratool.model.nn.Module;

/** DINOv2 feed-forward: {@code fc1}, exact (erf) GELU, {@code fc2}. */
public final class Mlp extends Module implements FeedForward {
    private final Linear fc1;
    private final Linear fc2;

    Mlp(NDManager manager, int dim, int hidden) {
        fc1 = addChild("fc1", new Linear(manager, dim, hidden));
        fc2 = addChild("fc2", new Linear(manager, hidden, dim));
    }

    @Override
    public NDArray forward(NDArray x) {
        return fc2.forward(Activation.gelu(fc1.forward(x)));
    }
}
