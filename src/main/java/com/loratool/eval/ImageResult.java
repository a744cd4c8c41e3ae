package com.loratool.eval;

import com.loratool.metrics.DepthMetrics;

/**
 * Metrics of both models on one image: {@code lora} and {@code original} after the per-image
 * disparity alignment; for metric models also {@code loraAbsolute} and {@code originalAbsolute},
 * the predictions in mm as they are (null for relative models).
 */
public record ImageResult(String name, DepthMetrics lora, DepthMetrics original, DepthMetrics loraAbsolute,
        DepthMetrics originalAbsolute) {
    /** A relative model's result (aligned metrics only). */
    public ImageResult(String name, DepthMetrics lora, DepthMetrics original) {
        this(name, lora, original, null, null);
    }

    /** True when the absolute (unaligned) metrics are there: a metric model. */
    public boolean absolute() {
        return loraAbsolute != null;
    }
}
