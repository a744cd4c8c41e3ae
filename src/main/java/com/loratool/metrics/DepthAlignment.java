package com.loratool.metrics;

/**
 * Per-image least-squares scale and shift of a relative DEPTH prediction p (a Depth Anything 3
 * da3mono model's output: depth up to scale and shift, larger = farther) to the true depth Z over
 * measured pixels: {@code (s, t) = argmin sum_M (s p + t - Z)^2}, then {@code Zp = max(s p + t, floor)}
 * with {@code floor = min_M Z / DEPTH_FLOOR_FACTOR}: aligned depths that are non-positive or tiny
 * become a tenth of the nearest measured depth of that image (counted as clamped). The protocol of
 * the PyTorch reference behind {@code fixtures/da3-tiny-mono-pretrained}; aligning 1/p the V2 way
 * ({@link DisparityAlignment}) gives other figures. Computed in double precision.
 */
public record DepthAlignment(double scale, double shift, double floor) implements Alignment {

    /** Aligned depth is raised to at least the image's smallest measured depth divided by this. */
    public static final double DEPTH_FLOOR_FACTOR = 10.0;

    /** Fits s and t ({@link LineFit}, y = Z); without measured pixels the fit is (0, NaN). */
    public static DepthAlignment fit(float[] pred, float[] depth, boolean[] measured) {
        LineFit.checkLengths(pred, depth, measured);
        LineFit line = LineFit.of(pred, i -> depth[i], measured, null);
        if (Double.isNaN(line.shift())) {
            return new DepthAlignment(0, Double.NaN, Double.NaN);
        }
        double minZ = Double.POSITIVE_INFINITY;
        for (int i = 0; i < depth.length; i++) {
            if (measured[i]) {
                minZ = Math.min(minZ, depth[i]);
            }
        }
        return new DepthAlignment(line.scale(), line.shift(), minZ / DEPTH_FLOOR_FACTOR);
    }

    /** Aligned depth of one predicted value: max(s p + t, floor). */
    @Override
    public double depth(float p) {
        return Math.max(scale * p + shift, floor);
    }

    @Override
    public boolean clamped(float p) {
        return scale * p + shift < floor;
    }

    /** Aligns {@code pred} to {@code depth} and scores it over the measured pixels. */
    public static DepthMetrics evaluate(float[] pred, float[] depth, boolean[] measured) {
        return Alignment.score(fit(pred, depth, measured), pred, depth, measured);
    }
}
