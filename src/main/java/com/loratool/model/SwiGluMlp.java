package com.loratool.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Activation;
import com.loratool.model.nn.Linear;
import com.loratool.model.nn.Module;

/** ViT-g feed-forward (SwiGLUFFNFused): {@code w12} → (x1, x2), silu(x1) * x2, {@code w3}. */
public final class SwiGluMlp extends Module implements FeedForward {
    private final Linear w12;
    private final Linear w3;

    SwiGluMlp(NDManager manager, int dim, int hidden) {
        w12 = addChild("w12", new Linear(manager, dim, 2 * hidden));
        w3 = addChild("w3", new Linear(manager, hidden, dim));
    }

    @Override
    public NDArray forward(NDArray x) {
        NDList parts = w12.forward(x).split(2, -1);
        // silu(x1) = x1 * sigmoid(x1); not Activation.swish(x1, 1f), which multiplies by beta through a
        // Java-buffer constant that autograd reads after it is freed (see model.nn.Scalars)
        NDArray x1 = parts.get(0);
        return w3.forward(x1.mul(Activation.sigmoid(x1)).mul(parts.get(1)));
    }
}
