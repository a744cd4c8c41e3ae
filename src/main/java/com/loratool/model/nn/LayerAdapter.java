package com.loratool.model.nn;

import ai.djl.ndarray.NDArray;

/**
 * Something added to a layer's output (a LoRA adapter): {@code delta(x)} has the layer output's
 * shape and is computed from the layer's input. The result must attach to x's manager.
 */
public interface LayerAdapter {
    NDArray delta(NDArray input);
}
