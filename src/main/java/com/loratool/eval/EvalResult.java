package com.loratool.eval;

import com.loratool.metrics.DepthMetrics;
import java.util.List;

/** Per-image results and their means; {@code difference} is LoRA - original (of the means). */
public record EvalResult(List<ImageResult> images, DepthMetrics lora, DepthMetrics original) {
    public static EvalResult of(List<ImageResult> images) {
        DepthMetrics l = DepthMetrics.mean(images.stream().map(ImageResult::lora).toList());
        DepthMetrics o = DepthMetrics.mean(images.stream().map(ImageResult::original).toList());
        return new EvalResult(List.copyOf(images), l, o);
    }

    public DepthMetrics difference() {
        return lora.minus(original);
    }
}
