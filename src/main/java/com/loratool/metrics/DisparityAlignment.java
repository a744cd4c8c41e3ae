package com.loratool.metrics;

/**
 * Per-image least-squares scale and shift of a relative disparity prediction p to the true
 * disparity 1/Z over measured pixels (the standard protocol for relative depth, as in MiDaS and
 * Depth Anything): {@code (s, t) = argmin sum_M (s p + t - 1/Z)^2}, then
 * {@code Zp = 1 / max(s p + t, floor)} with {@code floor = 1 / (DEPTH_CAP_FACTOR * max_M Z)}:
 * aligned disparities that are non-positive or tiny become a depth of ten times the farthest
 * measured depth of that image (MiDaS caps depth the same way, at a fixed dataset maximum).
 * Computed in double precision.
 */
public record DisparityAlignment(double scale, double shift, double floor) implements Alignment {

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

    /** Fits s and t ({@link LineFit}, y = 1/Z); without measured pixels the fit is (0, NaN). */
    public static DisparityAlignment fit(float[] pred, float[] depth, boolean[] measured) {
        LineFit.checkLengths(pred, depth, measured);
        LineFit line = LineFit.of(pred, i -> 1.0 / depth[i], measured, null);
        if (Double.isNaN(line.shift())) {
            return new DisparityAlignment(0, Double.NaN, Double.NaN);
        }
        double maxZ = 0;
        for (int i = 0; i < depth.length; i++) {
            if (measured[i]) {
                maxZ = Math.max(maxZ, depth[i]);
            }
        }
        return new DisparityAlignment(line.scale(), line.shift(), 1.0 / (DEPTH_CAP_FACTOR * maxZ));
    }

    /** Huber tuning constant (95 % efficiency for Gaussian residuals). */
    public static final double HUBER_K = 1.345;
    /** Most reweighting steps of {@link #fitRobust}. */
    public static final int ROBUST_ITERATIONS = 50;

    /**
     * Robust variant of {@link #fit}: Huber M-estimate by iteratively reweighted least squares,
     * started from the least-squares fit. Each step takes the residuals
     * {@code r = s p + t - 1/Z}, their scale {@code sigma = 1.4826 median|r|} (MAD), weights
     * {@code w = min(1, k sigma / |r|)} with {@code k = 1.345}, and solves the weighted least
     * squares; it stops when s and t change by less than 1e-12 relative, after at most 50 steps.
     * Gross outliers (sensor artefacts, mirror-like spots) pull with a bounded force k sigma
     * instead of their full residual, so their effect on s and t stays at the inliers' noise level.
     * The floor is the same as {@link #fit}'s.
     */
    public static DisparityAlignment fitRobust(float[] pred, float[] depth, boolean[] measured) {
        DisparityAlignment a = fit(pred, depth, measured);
        if (Double.isNaN(a.shift)) {
            return a;
        }
        int n = 0;
        double meanAbs = 0;
        for (int i = 0; i < pred.length; i++) {
            if (measured[i]) {
                n++;
                meanAbs += 1.0 / depth[i];
            }
        }
        meanAbs /= n;
        double[] r = new double[n];
        double[] wt = new double[pred.length];
        for (int it = 0; it < ROBUST_ITERATIONS; it++) {
            int k = 0;
            for (int i = 0; i < pred.length; i++) {
                if (measured[i]) {
                    r[k++] = Math.abs(a.disparity(pred[i]) - 1.0 / depth[i]);
                }
            }
            double sigma = Math.max(1.4826 * median(r), 1e-12 * meanAbs);
            double c = HUBER_K * sigma;
            for (int i = 0; i < pred.length; i++) {
                if (measured[i]) {
                    double ri = Math.abs(a.disparity(pred[i]) - 1.0 / depth[i]);
                    wt[i] = ri <= c ? 1.0 : c / ri;
                }
            }
            LineFit line = LineFit.of(pred, i -> 1.0 / depth[i], measured, wt);
            DisparityAlignment next = new DisparityAlignment(line.scale(), line.shift(), a.floor);
            boolean done = Math.abs(next.scale - a.scale) <= 1e-12 * Math.abs(a.scale) + 1e-300
                    && Math.abs(next.shift - a.shift) <= 1e-12 * (Math.abs(a.shift) + meanAbs);
            a = next;
            if (done) {
                break;
            }
        }
        return a;
    }

    /** Median of the values (reorders them; quickselect, O(n) on average). */
    static double median(double[] v) {
        int n = v.length;
        double hi = select(v, n / 2);
        if (n % 2 == 1) {
            return hi;
        }
        double lo = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < n / 2; i++) {
            lo = Math.max(lo, v[i]); // after select, v[0 .. n/2-1] hold the smaller half
        }
        return 0.5 * (lo + hi);
    }

    private static double select(double[] v, int k) {
        int lo = 0, hi = v.length - 1;
        while (lo < hi) {
            double pivot = v[(lo + hi) >>> 1];
            int i = lo, j = hi;
            while (i <= j) {
                while (v[i] < pivot) {
                    i++;
                }
                while (v[j] > pivot) {
                    j--;
                }
                if (i <= j) {
                    double t = v[i];
                    v[i] = v[j];
                    v[j] = t;
                    i++;
                    j--;
                }
            }
            if (k <= j) {
                hi = j;
            } else if (k >= i) {
                lo = i;
            } else {
                break;
            }
        }
        return v[k];
    }

    /** The aligned disparity of one predicted value, before the floor. */
    public double disparity(float p) {
        return scale * p + shift;
    }

    /** Aligned depth of one predicted value: 1 / max(s p + t, floor). */
    @Override
    public double depth(float p) {
        return 1.0 / Math.max(disparity(p), floor);
    }

    @Override
    public boolean clamped(float p) {
        return disparity(p) < floor;
    }

    /** Aligns {@code pred} to {@code depth} and scores it over the measured pixels. */
    public static DepthMetrics evaluate(float[] pred, float[] depth, boolean[] measured) {
        return Alignment.score(fit(pred, depth, measured), pred, depth, measured);
    }
}
