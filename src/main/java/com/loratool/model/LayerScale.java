package com.loratool.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import com.loratool.model.nn.Module;
import com.loratool.model.nn.Parameter;

/** DINOv2 LayerScale: x * gamma (per channel). */
public final class LayerScale extends Module {
    private final Parameter gamma;

    LayerScale(NDManager manager, int dim) {
        gamma = addParameter(manager, "gamma", dim);
    }

    NDArray forward(NDArray x) {
        return x.mul(gamma.array());
    }
}
