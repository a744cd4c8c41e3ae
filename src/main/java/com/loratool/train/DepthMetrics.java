package com.loratool.train;

/**
 * Validation metrics of one image after aligning the prediction to the target in disparity:
 * per-image least-squares scale s and shift t of p to 1/Z over measured pixels, then
 * Zp = 1 / max(s p + t, 1e-8 * mean(1/Z)) and
 * AbsRel = mean |Zp - Z| / Z, delta1 = fraction of pixels with max(Zp/Z, Z/Zp) < 1.25.
 * Computed on the host in double precision.
 */
public final class DepthMetrics {
    private DepthMetrics() {}

    /** {absRel, delta1, count}; count 0 (and NaN metrics) when no pixel is measured. */
    public static double[] compute(float[] pred, float[] depth, float[] mask, int offset, int n) {
        double sp = 0;
        double sd = 0;
        long count = 0;
        for (int i = offset; i < offset + n; i++) {
            if (mask[i] > 0 && depth[i] > 0) {
                sp += pred[i];
                sd += 1.0 / depth[i];
                count++;
            }
        }
        if (count == 0) {
            return new double[] {Double.NaN, Double.NaN, 0};
        }
        double pbar = sp / count;
        double dbar = sd / count;
        double cov = 0;
        double var = 0;
        for (int i = offset; i < offset + n; i++) {
            if (mask[i] > 0 && depth[i] > 0) {
                double pc = pred[i] - pbar;
                cov += pc * (1.0 / depth[i]);
                var += pc * pc;
            }
        }
        double s = var > 0 ? cov / var : 0;
        double floor = 1e-8 * dbar;
        double absRel = 0;
        long good = 0;
        for (int i = offset; i < offset + n; i++) {
            if (mask[i] > 0 && depth[i] > 0) {
                double disp = Math.max(s * (pred[i] - pbar) + dbar, floor);
                double zp = 1.0 / disp;
                double z = depth[i];
                absRel += Math.abs(zp - z) / z;
                if (Math.max(zp / z, z / zp) < 1.25) {
                    good++;
                }
            }
        }
        return new double[] {absRel / count, (double) good / count, count};
    }
}
