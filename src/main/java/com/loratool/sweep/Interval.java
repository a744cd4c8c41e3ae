package com.loratool.sweep;

import java.util.Arrays;
import java.util.List;

/**
 * A mean with its two-sided 95 % Student t-interval over folds:
 * {@code mean +- t(0.975, n-1) * s / sqrt(n)}, s the sample standard deviation (n - 1 in the
 * denominator). With one value (or none) the half-width is NaN: no interval. A paired comparison
 * of two combinations is the interval of their per-fold differences ({@link #paired}); they differ
 * beyond noise when it excludes 0.
 */
public record Interval(double mean, double halfWidth, int n) {
    /** t(0.975, df) for df = 1..30; above 30 a Cornish-Fisher expansion around 1.96. */
    private static final double[] T975 = {12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
        2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060,
        2.056, 2.052, 2.048, 2.045, 2.042};

    public static double t975(int df) {
        if (df < 1) {
            return Double.NaN;
        }
        if (df <= T975.length) {
            return T975[df - 1];
        }
        double z = 1.959964;
        return z + (z * z * z + z) / (4.0 * df) + (5 * Math.pow(z, 5) + 16 * z * z * z + 3 * z) / (96.0 * df * df);
    }

    /** The interval of the finite values (NaN values, e.g. of failed cells, are left out). */
    public static Interval of(double... values) {
        double[] v = Arrays.stream(values).filter(Double::isFinite).toArray();
        int n = v.length;
        if (n == 0) {
            return new Interval(Double.NaN, Double.NaN, 0);
        }
        double mean = Arrays.stream(v).sum() / n;
        if (n == 1) {
            return new Interval(mean, Double.NaN, 1);
        }
        double ss = 0;
        for (double x : v) {
            ss += (x - mean) * (x - mean);
        }
        double sd = Math.sqrt(ss / (n - 1));
        return new Interval(mean, t975(n - 1) * sd / Math.sqrt(n), n);
    }

    public static Interval of(List<Double> values) {
        return of(values.stream().mapToDouble(d -> d == null ? Double.NaN : d).toArray());
    }

    /** The interval of {@code a[i] - b[i]} over the indices where both are finite (same folds). */
    public static Interval paired(double[] a, double[] b) {
        double[] d = new double[Math.min(a.length, b.length)];
        for (int i = 0; i < d.length; i++) {
            d[i] = Double.isFinite(a[i]) && Double.isFinite(b[i]) ? a[i] - b[i] : Double.NaN;
        }
        return of(d);
    }

    public double low() {
        return mean - halfWidth;
    }

    public double high() {
        return mean + halfWidth;
    }

    /** Whether the interval exists and excludes 0 (a difference beyond noise). */
    public boolean excludesZero() {
        return Double.isFinite(halfWidth) && (low() > 0 || high() < 0);
    }
}
