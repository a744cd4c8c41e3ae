package com.loratool.eval;

import com.loratool.metrics.DepthMetrics;
import java.util.List;

/**
 * Per-image results and their means; {@code difference} is LoRA - original (of the means). For a
 * metric model {@code loraAbsolute} / {@code originalAbsolute} are the means of the absolute
 * (unaligned, mm) metrics; null for a relative one.
 */
public record EvalResult(List<ImageResult> images, DepthMetrics lora, DepthMetrics original, DepthMetrics loraAbsolute,
        DepthMetrics originalAbsolute) {
    public static EvalResult of(List<ImageResult> images) {
        DepthMetrics l = DepthMetrics.mean(images.stream().map(ImageResult::lora).toList());
        DepthMetrics o = DepthMetrics.mean(images.stream().map(ImageResult::original).toList());
        boolean abs = !images.isEmpty() && images.stream().allMatch(ImageResult::absolute);
        DepthMetrics la = abs ? DepthMetrics.mean(images.stream().map(ImageResult::loraAbsolute).toList()) : null;
        DepthMetrics oa = abs ? DepthMetrics.mean(images.stream().map(ImageResult::originalAbsolute).toList()) : null;
        return new EvalResult(List.copyOf(images), l, o, la, oa);
    }

    public DepthMetrics difference() {
        return lora.minus(original);
    }

    /** True for a metric model's result (absolute metrics present). */
    public boolean absolute() {
        return loraAbsolute != null;
    }

    /** LoRA - original of the absolute means (metric models only). */
    public DepthMetrics differenceAbsolute() {
        return loraAbsolute.minus(originalAbsolute);
    }
}
