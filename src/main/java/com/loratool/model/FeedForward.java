package com.loratool.model;

import ai.djl.ndarray.NDArray;

/** The {@code mlp} of a transformer block: (..., D) → (..., D). */
interface FeedForward {
    NDArray forward(NDArray x);
}
