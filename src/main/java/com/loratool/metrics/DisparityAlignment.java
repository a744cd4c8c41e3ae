package com.loratool.metrics;

import com.loratool.metrics.DepthMetrics;

/**
 * Per-image least-squares scale and shift of a relative disparity prediction p to the true
 * disparity 1/Z over measured pixels (the standard protocol for relative depth, as in MiDaS and
 * Depth Anything): {@code (s, t) = argmin sum_M (s p + t - 1/Z)^2}, then
 * {@code Zp = 1 / max(s p + t, floor)} with {@code floor = 1 / (DEPTH_CAP_FACTOR * max_M Z)}:
 * aligned disparities that are non-positive or tiny become a depth of ten times the farthest
 * measured depth of that image (MiDaS caps depth the same way, at a fixed dataset maximum).
 * Computed in double precision.
 */
public record DisparityAlignment(double scale, double shift, double floor) {

    /** Predicted depth is capped at this multiple of the image's largest measured depth. */
    public static final double DEPTH_CAP_FACTOR = 10.0;

    /** Pixels whose truth is finite and positive (and, if given, where {@code mask} is true). */
    public static boolean[] measured(float[] depth, boolean[] mask) {
        boolean[] m = new boolean[depth.length];
        for (int i = 0; i < depth.length; i++) {
            float z = depth[i];
            m[i] = Float.isFinite(z) && z > 0 && (mask == null || mask[i]);
        }
        return m;
    }

    /** Fits s and t; with fewer than one measured pixel the fit is (0, NaN). */
    public static DisparityAlignment fit(float[] pred, float[] depth, boolean[] measured) {
        check(pred, depth, measured);
        long n = 0;
        double sp = 0, sd = 0, maxZ = 0;
        for (int i = 0; i < pred.length; i++) {
            if (measured[i]) {
                sp += pred[i];
                sd += 1.0 / depth[i];
                maxZ = Math.max(maxZ, depth[i]);
                n++;
            }
        }
        if (n == 0) {
            return new DisparityAlignment(0, Double.NaN, Double.NaN);
        }
        double pm = sp / n;
        double dm = sd / n;
        double cov = 0, var = 0;
        for (int i = 0; i < pred.length; i++) {
            if (measured[i]) {
                double pc = pred[i] - pm;
                cov += pc * (1.0 / depth[i] - dm);
                var += pc * pc;
            }
        }
        double s = var > 0 ? cov / var : 0;
        return new DisparityAlignment(s, dm - s * pm, 1.0 / (DEPTH_CAP_FACTOR * maxZ));
    }

    /** The aligned disparity of one predicted value, before the floor. */
    public double disparity(float p) {
        return scale * p + shift;
    }

    /** Aligned depth of one predicted value: 1 / max(s p + t, floor). */
    public double depth(float p) {
        return 1.0 / Math.max(disparity(p), floor);
    }

    /** Aligned depth of every pixel (also unmeasured ones, for pictures). */
    public double[] depths(float[] pred) {
        double[] out = new double[pred.length];
        for (int i = 0; i < pred.length; i++) {
            out[i] = depth(pred[i]);
        }
        return out;
    }

    /** Aligns {@code pred} to {@code depth} and scores it over the measured pixels. */
    public static DepthMetrics evaluate(float[] pred, float[] depth, boolean[] measured) {
        DisparityAlignment a = fit(pred, depth, measured);
        if (Double.isNaN(a.shift)) {
            return DepthMetrics.empty();
        }
        double[] zp = new double[pred.length];
        long clamped = 0;
        for (int i = 0; i < pred.length; i++) {
            if (measured[i]) {
                if (a.disparity(pred[i]) < a.floor) {
                    clamped++;
                }
                zp[i] = a.depth(pred[i]);
            }
        }
        return DepthMetrics.of(zp, depth, measured, clamped);
    }

    private static void check(float[] pred, float[] depth, boolean[] measured) {
        if (pred.length != depth.length || measured.length != depth.length) {
            throw new IllegalArgumentException("prediction has " + pred.length + " pixels, truth "
                    + depth.length + ", mask " + measured.length);
        }
    }
}
