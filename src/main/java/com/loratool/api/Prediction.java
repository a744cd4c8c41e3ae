package com.loratool.api;

import com.loratool.metrics.MetricDepth;

/**
 * One predicted depth map at the image's size, row-major: {@code values[y * width + x]}.
 *
 * @param unit {@code "relative"} (relative inverse depth of the V2 relative models: larger = nearer,
 *     arbitrary scale and shift), {@code "relative-depth"} (Depth Anything 3 mono: relative depth,
 *     larger = farther, arbitrary scale) or {@code "m"} (metres, from a metric model)
 * @param sky Depth Anything 3: true where the sky head sees sky ({@code sky >= 0.3}); null for V2
 */
public record Prediction(int height, int width, float[] values, String unit, boolean[] sky) {
    public static final String RELATIVE = "relative";
    public static final String RELATIVE_DEPTH = "relative-depth";
    public static final String METRES = "m";

    public Prediction {
        if (values.length != (long) height * width) {
            throw new IllegalArgumentException(values.length + " values for " + height + " x " + width);
        }
        if (sky != null && sky.length != values.length) {
            throw new IllegalArgumentException(sky.length + " sky values for " + height + " x " + width);
        }
    }

    /** A prediction without a sky mask (Depth Anything V2). */
    public Prediction(int height, int width, float[] values, String unit) {
        this(height, width, values, unit, null);
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
