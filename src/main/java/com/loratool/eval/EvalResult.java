package com.loratool.eval;

import com.loratool.io.BatchFailures;
import com.loratool.metrics.DepthMetrics;
import java.util.List;

/**
 * Per-image results and their means; {@code difference} is LoRA - original (of the means). For a
 * metric model {@code loraAbsolute} / {@code originalAbsolute} are the means of the absolute
 * (unaligned, mm) metrics; null for a relative one. {@code leftOut}: the pairs that could not be
 * read or predicted (name, file and reason), in none of the means; empty for a full evaluation.
 */
public record EvalResult(List<ImageResult> images, DepthMetrics lora, DepthMetrics original, DepthMetrics loraAbsolute,
        DepthMetrics originalAbsolute, List<EvalResult.LeftOut> leftOut) {
    /** A pair that could not be read or predicted: its name (image stem) and the failure (file and reason). */
    public record LeftOut(String image, BatchFailures.Failure failure) {}

    public static EvalResult of(List<ImageResult> images) {
        return of(images, List.of());
    }

    public static EvalResult of(List<ImageResult> images, List<LeftOut> leftOut) {
        DepthMetrics l = DepthMetrics.mean(images.stream().map(ImageResult::lora).toList());
        DepthMetrics o = DepthMetrics.mean(images.stream().map(ImageResult::original).toList());
        boolean abs = !images.isEmpty() && images.stream().allMatch(ImageResult::absolute);
        DepthMetrics la = abs ? DepthMetrics.mean(images.stream().map(ImageResult::loraAbsolute).toList()) : null;
        DepthMetrics oa = abs ? DepthMetrics.mean(images.stream().map(ImageResult::originalAbsolute).toList()) : null;
        return new EvalResult(List.copyOf(images), l, o, la, oa, List.copyOf(leftOut));
    }

    /** Pairs attempted: those evaluated plus those left out. */
    public int pairs() {
        return images.size() + leftOut.size();
    }

    /** True when some pairs were left out (the means are over the others only). */
    public boolean partial() {
        return !leftOut.isEmpty();
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
