package com.loratool.data;

/**
 * Z per pixel in millimetres, row-major {@code h x w}. Missing pixels are NaN, infinite or
 * {@code <= 0} as read; {@link #measured(float)} defines which are valid.
 */
public record DepthMap(int h, int w, float[] z) {
    /** A measured value: finite and positive. */
    public static boolean measured(float v) {
        return v > 0 && v < Float.POSITIVE_INFINITY; // false for NaN
    }

    public int countMeasured() {
        int n = 0;
        for (float v : z) {
            if (measured(v)) {
                n++;
            }
        }
        return n;
    }
}
