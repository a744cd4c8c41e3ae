package com.loratool.metrics;

/**
 * A per-image fit of a relative prediction to the true depth ({@link DisparityAlignment} for V2's
 * disparity, {@link DepthAlignment} for Depth Anything 3's depth): what turns one predicted value
 * into an aligned depth, with the floor that keeps it positive. Scoring and pictures are the same
 * for both, so they live here once.
 */
public interface Alignment {
    /** The shift of the fit; NaN when there were no measured pixels to fit. */
    double shift();

    /** Aligned depth of one predicted value, floor applied. */
    double depth(float p);

    /** The value falls below the floor before it is applied (counted as clamped). */
    boolean clamped(float p);

    /** Whether the fit had measured pixels. */
    default boolean fitted() {
        return !Double.isNaN(shift());
    }

    /** Aligned depth of every pixel (also unmeasured ones, for pictures). */
    default double[] depths(float[] pred) {
        double[] out = new double[pred.length];
        for (int i = 0; i < pred.length; i++) {
            out[i] = depth(pred[i]);
        }
        return out;
    }

    /** The metrics of {@code pred} aligned by {@code a}, over the measured pixels. */
    static DepthMetrics score(Alignment a, float[] pred, float[] depth, boolean[] measured) {
        if (!a.fitted()) {
            return DepthMetrics.empty();
        }
        double[] zp = new double[pred.length];
        long clamped = 0;
        for (int i = 0; i < pred.length; i++) {
            if (measured[i]) {
                if (a.clamped(pred[i])) {
                    clamped++;
                }
                zp[i] = a.depth(pred[i]);
            }
        }
        return DepthMetrics.of(zp, depth, measured, clamped);
    }
}
