package com.loratool.metrics;

/**
 * Scores of a <em>metric</em> depth prediction (a metric model's output, in metres) against the
 * measured depth (millimetres, this project's unit). Two protocols:
 *
 * <ul>
 *   <li>{@link #absolute}: no alignment at all, the prediction as the model gives it, converted
 *       to mm ({@code Zp = 1000 * pred}). These are the numbers that matter for a metric model:
 *       what a user gets in millimetres.
 *   <li>{@link #aligned}: the prediction's disparity {@code 1 / pred} through the same per-image
 *       scale-and-shift protocol as a relative model ({@link DisparityAlignment#evaluate}), so a
 *       metric model can be compared with relative ones on equal terms.
 * </ul>
 * Both score the pixels where {@code measured[i]}, with the formulas of {@link DepthMetrics}.
 */
public final class MetricDepth {
    private MetricDepth() {}

    /** Millimetres per metre: metric models work in metres, the data pipeline holds Z in mm. */
    public static final double MM_PER_METRE = 1000.0;

    /**
     * A predicted depth is raised to this many mm before the log/ratio metrics (a sigmoid head can
     * underflow to exactly 0); such pixels are counted in {@link DepthMetrics#clamped()}.
     */
    public static final double MIN_PREDICTION_MM = 1e-3;

    /** Millimetres to metres, element by element. */
    public static float[] fromMm(float[] mm) {
        float[] m = new float[mm.length];
        for (int i = 0; i < m.length; i++) {
            m[i] = (float) (mm[i] / MM_PER_METRE);
        }
        return m;
    }

    /** Metres to millimetres, element by element. */
    public static float[] toMm(float[] metres) {
        float[] mm = new float[metres.length];
        for (int i = 0; i < mm.length; i++) {
            mm[i] = (float) (metres[i] * MM_PER_METRE);
        }
        return mm;
    }

    /**
     * The metrics of {@code predMetres} against {@code depthMm} without any alignment: RMSE and
     * SqRel in mm, AbsRel and the deltas unit-free.
     */
    public static DepthMetrics absolute(float[] predMetres, float[] depthMm, boolean[] measured) {
        check(predMetres, depthMm, measured);
        double[] zp = new double[predMetres.length];
        long clamped = 0;
        for (int i = 0; i < zp.length; i++) {
            if (!measured[i]) {
                continue;
            }
            double v = predMetres[i] * MM_PER_METRE;
            if (!(v >= MIN_PREDICTION_MM)) {
                v = MIN_PREDICTION_MM;
                clamped++;
            }
            zp[i] = v;
        }
        return DepthMetrics.of(zp, depthMm, measured, clamped);
    }

    /** The relative protocol on the prediction's disparity {@code 1 / pred} ({@link DisparityAlignment#evaluate}). */
    public static DepthMetrics aligned(float[] predMetres, float[] depthMm, boolean[] measured) {
        check(predMetres, depthMm, measured);
        return DisparityAlignment.evaluate(disparity(predMetres), depthMm, measured);
    }

    /** {@code 1 / max(pred, MIN_PREDICTION_MM / 1000)}: a metric prediction as a disparity (1/m). */
    public static float[] disparity(float[] predMetres) {
        float[] d = new float[predMetres.length];
        double floor = MIN_PREDICTION_MM / MM_PER_METRE;
        for (int i = 0; i < d.length; i++) {
            double v = predMetres[i];
            d[i] = (float) (1.0 / (v >= floor ? v : floor));
        }
        return d;
    }

    private static void check(float[] pred, float[] depth, boolean[] measured) {
        if (pred.length != depth.length || measured.length != depth.length) {
            throw new IllegalArgumentException("prediction has " + pred.length + " pixels, truth "
                    + depth.length + ", mask " + measured.length);
        }
    }
}
