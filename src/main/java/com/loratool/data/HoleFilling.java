package com.loratool.data;

/**
 * Nearest-neighbour hole filling: every missing pixel takes the value of the nearest measured
 * pixel in exact Euclidean distance, in O(pixels).
 *
 * <p>Exact Euclidean feature transform (Felzenszwalb &amp; Huttenlocher 2012, with argmin
 * tracking): a column pass finds, per pixel, the nearest measured row in its column; a row pass
 * takes the lower envelope of the parabolas {@code (x - q)^2 + g(q)^2}. OpenCV's
 * {@code distanceTransformWithLabels} was not used because it silently falls back to the
 * approximate 5x5 chamfer mask when labels are requested (its documentation: "DIST_MASK_PRECISE
 * is not supported yet" for the labels variant), which is not exactly Euclidean.
 * Ties (equal distances) may go to either pixel.
 */
public final class HoleFilling {
    private HoleFilling() {}

    /**
     * For each pixel, the flat index of the nearest pixel with {@code valid[i]} true (itself when
     * valid). Throws IllegalArgumentException when nothing is valid.
     */
    public static int[] nearestValid(boolean[] valid, int h, int w) {
        int n = h * w;
        if (valid.length != n) {
            throw new IllegalArgumentException("mask has " + valid.length + " values, expected " + n);
        }
        // Column pass: nearest valid row per pixel, -1 if the column has none.
        int[] row = new int[n];
        for (int x = 0; x < w; x++) {
            int last = -1;
            for (int y = 0; y < h; y++) {
                if (valid[y * w + x]) {
                    last = y;
                }
                row[y * w + x] = last;
            }
            last = -1;
            for (int y = h - 1; y >= 0; y--) {
                int i = y * w + x;
                if (valid[i]) {
                    last = y;
                } else if (last >= 0 && (row[i] < 0 || last - y < y - row[i])) {
                    row[i] = last;
                }
            }
        }
        int[] out = new int[n];
        int[] v = new int[w]; // parabola sites (columns)
        double[] zb = new double[w + 1]; // envelope boundaries
        long[] f = new long[w];
        boolean any = false;
        for (int y = 0; y < h; y++) {
            int base = y * w;
            int k = -1;
            for (int q = 0; q < w; q++) {
                int r = row[base + q];
                if (r < 0) {
                    continue;
                }
                long g = r - y;
                f[q] = g * g;
                if (k < 0) {
                    k = 0;
                    v[0] = q;
                    zb[0] = Double.NEGATIVE_INFINITY;
                    zb[1] = Double.POSITIVE_INFINITY;
                    continue;
                }
                double s;
                while (true) {
                    int p = v[k];
                    s = ((f[q] + (long) q * q) - (f[p] + (long) p * p)) / (2.0 * (q - p));
                    if (s <= zb[k] && k > 0) {
                        k--;
                    } else {
                        break;
                    }
                }
                if (s <= zb[k]) { // k == 0 and the new parabola dominates everywhere
                    v[0] = q;
                    zb[0] = Double.NEGATIVE_INFINITY;
                    zb[1] = Double.POSITIVE_INFINITY;
                    continue;
                }
                k++;
                v[k] = q;
                zb[k] = s;
                zb[k + 1] = Double.POSITIVE_INFINITY;
            }
            if (k < 0) {
                // no valid pixel in any column: the whole image is empty
                break;
            }
            any = true;
            int j = 0;
            for (int x = 0; x < w; x++) {
                while (zb[j + 1] < x) {
                    j++;
                }
                int q = v[j];
                out[base + x] = row[base + q] * w + q;
            }
        }
        if (!any) {
            throw new IllegalArgumentException("no valid pixel");
        }
        return out;
    }

    /**
     * Fills missing values ({@link DepthMap#measured} false) in place and returns the mask of
     * measured pixels. Throws IllegalArgumentException when nothing is measured.
     */
    public static boolean[] fill(float[] z, int h, int w) {
        boolean[] valid = new boolean[z.length];
        boolean allValid = true;
        for (int i = 0; i < z.length; i++) {
            valid[i] = DepthMap.measured(z[i]);
            allValid &= valid[i];
        }
        if (allValid) {
            return valid;
        }
        int[] src = nearestValid(valid, h, w);
        for (int i = 0; i < z.length; i++) {
            if (!valid[i]) {
                z[i] = z[src[i]];
            }
        }
        return valid;
    }
}
