package com.loratool.api;

import com.loratool.metrics.MetricDepth;

/**
 * One predicted depth map at the image's size, row-major: {@code values[y * width + x]}.
 *
 * @param unit {@code "relative"} (relative inverse depth of the relative models: larger = nearer,
 *     arbitrary scale and shift) or {@code "m"} (metres, from a metric model)
 */
public record Prediction(int height, int width, float[] values, String unit) {
    public static final String RELATIVE = "relative";
    public static final String METRES = "m";

    public Prediction {
        if (values.length != (long) height * width) {
            throw new IllegalArgumentException(values.length + " values for " + height + " x " + width);
        }
    }

    public float at(int y, int x) {
        return values[y * width + x];
    }

    public boolean metric() {
        return METRES.equals(unit);
    }

    /** Depth in millimetres (metric models only). */
    public float[] millimetres() {
        if (!metric()) {
            throw new IllegalStateException("a relative model's output has no unit; use a metric model"
                    + " or align it to measured depth (lora predict --align-to)");
        }
        return MetricDepth.toMm(values);
    }
}
