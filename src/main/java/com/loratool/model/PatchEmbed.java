package com.loratool.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import com.loratool.model.nn.Conv2d;
import com.loratool.model.nn.Module;

/** DINOv2 {@code patch_embed}: conv p x p stride p, x (B,3,H,W) → tokens (B, H/p * W/p, D). */
public final class PatchEmbed extends Module {
    private final Conv2d proj;

    PatchEmbed(NDManager manager, int patch, int dim) {
        proj = addChild("proj", new Conv2d(manager, 3, dim, patch, patch, 0, true));
    }

    public Conv2d proj() {
        return proj;
    }

    NDArray forward(NDArray x) {
        NDArray y = proj.forward(x); // (B,D,ph,pw)
        return y.reshape(y.getShape().get(0), y.getShape().get(1), -1).transpose(0, 2, 1); // (B,N,D)
    }
}
