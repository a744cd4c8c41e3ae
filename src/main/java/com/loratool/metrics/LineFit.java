package com.loratool.metrics;

import java.util.function.IntToDoubleFunction;

/**
 * The (weighted) least-squares line {@code y ~ s p + t} of a prediction p against a target y over
 * the measured pixels, in double precision: the one fit behind {@link DisparityAlignment} (y = 1/Z,
 * also each step of its robust fit) and {@link DepthAlignment} (y = Z). Without measured pixels
 * the line is (0, NaN); a constant prediction gets s = 0 and t = the target's mean.
 */
record LineFit(double scale, double shift) {

    /**
     * Fits the line; {@code target} gives y at a pixel index, {@code weights} (null: all 1) each
     * measured pixel's weight.
     */
    static LineFit of(float[] pred, IntToDoubleFunction target, boolean[] measured, double[] weights) {
        long n = 0;
        double sw = 0, sp = 0, sy = 0;
        for (int i = 0; i < pred.length; i++) {
            if (measured[i]) {
                double w = weights == null ? 1.0 : weights[i];
                sw += w;
                sp += w * pred[i];
                sy += w * target.applyAsDouble(i);
                n++;
            }
        }
        if (n == 0) {
            return new LineFit(0, Double.NaN);
        }
        double pm = sp / sw;
        double ym = sy / sw;
        double cov = 0, var = 0;
        for (int i = 0; i < pred.length; i++) {
            if (measured[i]) {
                double w = weights == null ? 1.0 : weights[i];
                double pc = pred[i] - pm;
                cov += w * pc * (target.applyAsDouble(i) - ym);
                var += w * pc * pc;
            }
        }
        double s = var > 0 ? cov / var : 0;
        return new LineFit(s, ym - s * pm);
    }

    /** Refuses arrays of different lengths (a caller's bug, not a user's). */
    static void checkLengths(float[] pred, float[] depth, boolean[] measured) {
        if (pred.length != depth.length || measured.length != depth.length) {
            throw new IllegalArgumentException("prediction has " + pred.length + " pixels, truth "
                    + depth.length + ", mask " + measured.length);
        }
    }
}
