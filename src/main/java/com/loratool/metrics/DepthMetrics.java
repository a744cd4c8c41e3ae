package com.loratool.metrics;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The standard depth-estimation metrics of one image (or their mean over images), computed on
 * measured pixels after the prediction has been aligned to the truth ({@link DisparityAlignment}).
 * Depths are in the ground truth's unit (millimetres for this project's data).
 *
 * <ul>
 *   <li>{@code absRel} = mean |Zp - Z| / Z
 *   <li>{@code sqRel} = mean (Zp - Z)^2 / Z (in mm)
 *   <li>{@code rmse} = sqrt(mean (Zp - Z)^2) (in mm)
 *   <li>{@code rmseLog} = sqrt(mean (ln Zp - ln Z)^2)
 *   <li>{@code log10} = mean |log10 Zp - log10 Z|
 *   <li>{@code delta1..3} = fraction of pixels with max(Zp/Z, Z/Zp) &lt; 1.25^k
 *   <li>{@code siLog} = 100 * sqrt(mean g^2 - (mean g)^2), g = ln Zp - ln Z (KITTI convention)
 * </ul>
 * Lower is better for all but the deltas. {@code pixels} is the number of measured pixels used;
 * {@code clamped} how many of them had their aligned disparity raised to the floor.
 */
public record DepthMetrics(double absRel, double sqRel, double rmse, double rmseLog, double log10,
                           double delta1, double delta2, double delta3, double siLog,
                           long pixels, long clamped) {

    /** Metric names in report order (the keys of {@link #asMap()}, without the pixel counts). */
    public static final List<String> NAMES = List.of(
            "abs_rel", "sq_rel", "rmse", "rmse_log", "log10", "delta1", "delta2", "delta3", "silog");

    /** True for metrics where higher is better (the delta thresholds). */
    public static boolean higherIsBetter(String name) {
        return name.startsWith("delta");
    }

    /** All NaN: an image without measured pixels. */
    public static DepthMetrics empty() {
        double n = Double.NaN;
        return new DepthMetrics(n, n, n, n, n, n, n, n, n, 0, 0);
    }

    public boolean isEmpty() {
        return pixels == 0;
    }

    public double get(String name) {
        return switch (name) {
            case "abs_rel" -> absRel;
            case "sq_rel" -> sqRel;
            case "rmse" -> rmse;
            case "rmse_log" -> rmseLog;
            case "log10" -> log10;
            case "delta1" -> delta1;
            case "delta2" -> delta2;
            case "delta3" -> delta3;
            case "silog" -> siLog;
            default -> throw new IllegalArgumentException("unknown metric " + name);
        };
    }

    /** The metrics by name (report order), then {@code pixels} and {@code clamped}. */
    public Map<String, Double> asMap() {
        Map<String, Double> m = new LinkedHashMap<>();
        for (String n : NAMES) {
            m.put(n, get(n));
        }
        m.put("pixels", (double) pixels);
        m.put("clamped", (double) clamped);
        return m;
    }

    /** Mean over images, each image weighing the same; images without measured pixels are skipped. */
    public static DepthMetrics mean(List<DepthMetrics> images) {
        double[] sum = new double[NAMES.size()];
        long pixels = 0;
        long clamped = 0;
        int count = 0;
        for (DepthMetrics m : images) {
            if (m.isEmpty()) {
                continue;
            }
            for (int i = 0; i < sum.length; i++) {
                sum[i] += m.get(NAMES.get(i));
            }
            pixels += m.pixels;
            clamped += m.clamped;
            count++;
        }
        if (count == 0) {
            return empty();
        }
        for (int i = 0; i < sum.length; i++) {
            sum[i] /= count;
        }
        return new DepthMetrics(sum[0], sum[1], sum[2], sum[3], sum[4], sum[5], sum[6], sum[7], sum[8],
                pixels, clamped);
    }

    /** {@code this - other}, metric by metric (e.g. LoRA - original); counts are this one's. */
    public DepthMetrics minus(DepthMetrics o) {
        return new DepthMetrics(absRel - o.absRel, sqRel - o.sqRel, rmse - o.rmse, rmseLog - o.rmseLog,
                log10 - o.log10, delta1 - o.delta1, delta2 - o.delta2, delta3 - o.delta3, siLog - o.siLog,
                pixels, clamped);
    }

    /**
     * Metrics of an aligned depth prediction against the truth over the pixels where
     * {@code measured[i]}; both depths must be positive there.
     */
    static DepthMetrics of(double[] predDepth, float[] depth, boolean[] measured, long clamped) {
        long n = 0;
        double absRel = 0, sqRel = 0, se = 0, seLog = 0, log10 = 0, g1 = 0, g2 = 0;
        long d1 = 0, d2 = 0, d3 = 0;
        final double t1 = 1.25, t2 = 1.25 * 1.25, t3 = 1.25 * 1.25 * 1.25;
        for (int i = 0; i < depth.length; i++) {
            if (!measured[i]) {
                continue;
            }
            double z = depth[i];
            double zp = predDepth[i];
            double diff = zp - z;
            absRel += Math.abs(diff) / z;
            sqRel += diff * diff / z;
            se += diff * diff;
            double g = Math.log(zp) - Math.log(z);
            seLog += g * g;
            g1 += g;
            log10 += Math.abs(Math.log10(zp) - Math.log10(z));
            double ratio = Math.max(zp / z, z / zp);
            if (ratio < t1) {
                d1++;
            }
            if (ratio < t2) {
                d2++;
            }
            if (ratio < t3) {
                d3++;
            }
            n++;
        }
        if (n == 0) {
            return empty();
        }
        g2 = seLog / n;
        double gm = g1 / n;
        double siLog = 100 * Math.sqrt(Math.max(g2 - gm * gm, 0));
        return new DepthMetrics(absRel / n, sqRel / n, Math.sqrt(se / n), Math.sqrt(seLog / n), log10 / n,
                (double) d1 / n, (double) d2 / n, (double) d3 / n, siLog, n, clamped);
    }
}
