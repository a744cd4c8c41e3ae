package com.loratool.data;

import com.loratool.metrics.DisparityAlignment;

/**
 * Sensor-aligned depth and depth completion for a relative (disparity) prediction.
 *
 * <ul>
 *   <li>{@link #aligned}: per image, scale and shift of the predicted disparity to the sensor's
 *       1/Z over its measured pixels ({@link DisparityAlignment#fit} least squares, or
 *       {@link DisparityAlignment#fitRobust} Huber IRLS), then {@code Z = 1 / max(s p + t, floor)}
 *       in mm for every pixel.
 *   <li>{@link #complete}: measured pixels keep the sensor's value exactly; each hole takes the
 *       aligned prediction plus the residual {@code Z_sensor - Z_aligned} of its nearest measured
 *       pixel (exact Euclidean, {@link HoleFilling#nearestValid}), so the fill meets the measured
 *       surface without a step at the hole's border and follows the prediction's shape inside.
 *       Should that sum not be a positive finite depth, the hole takes the nearest measured value.
 * </ul>
 */
public final class DepthCompletion {
    private DepthCompletion() {}

    /** The fit of {@code pred} (disparity) to {@code sensorZ} (mm); throws if nothing is measured. */
    public static DisparityAlignment fit(float[] pred, float[] sensorZ, boolean robust) {
        boolean[] m = DisparityAlignment.measured(sensorZ, null);
        DisparityAlignment a = robust ? DisparityAlignment.fitRobust(pred, sensorZ, m)
                : DisparityAlignment.fit(pred, sensorZ, m);
        if (Double.isNaN(a.shift())) {
            throw new IllegalArgumentException("no measured pixel to align to");
        }
        return a;
    }

    /** Aligned depth in mm of every pixel. */
    public static float[] aligned(float[] pred, float[] sensorZ, boolean robust) {
        DisparityAlignment a = fit(pred, sensorZ, robust);
        float[] out = new float[pred.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = (float) a.depth(pred[i]);
        }
        return out;
    }

    /** Sensor depth with its holes filled from {@code aligned} (mm, h x w). */
    public static float[] complete(float[] aligned, float[] sensorZ, int h, int w) {
        if (aligned.length != sensorZ.length || sensorZ.length != h * w) {
            throw new IllegalArgumentException("aligned has " + aligned.length + " pixels, sensor " + sensorZ.length
                    + ", expected " + h + "x" + w);
        }
        boolean[] valid = new boolean[sensorZ.length];
        boolean all = true;
        for (int i = 0; i < valid.length; i++) {
            valid[i] = DepthMap.measured(sensorZ[i]);
            all &= valid[i];
        }
        float[] out = sensorZ.clone();
        if (all) {
            return out;
        }
        int[] src = HoleFilling.nearestValid(valid, h, w);
        for (int i = 0; i < out.length; i++) {
            if (!valid[i]) {
                int j = src[i];
                float z = (float) ((double) aligned[i] + ((double) sensorZ[j] - aligned[j]));
                out[i] = DepthMap.measured(z) ? z : sensorZ[j];
            }
        }
        return out;
    }
}
