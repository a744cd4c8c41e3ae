package com.loratool.data;

import com.loratool.LoraException;
import java.nio.file.Path;

/**
 * Pinhole intrinsics fitted to one organised XYZ cloud by least squares. Over the measured pixels
 * (X, Y, Z finite, Z &gt; 0) the model {@code X = (u - cx) Z / fx}, {@code Y = (v - cy) Z / fy} is
 * linear in {@code 1/fx} and {@code cx/fx}: the fit solves {@code X/Z = a u + b} and
 * {@code Y/Z = c v + d} (two independent straight-line fits, double precision), then
 * {@code fx = 1/a, cx = -b/a, fy = 1/c, cy = -d/c}.
 *
 * <p>{@code rmsPixels} is the RMS reprojection residual in pixels over both axes,
 * {@code sqrt(mean((fx X/Z + cx - u)^2 + (fy Y/Z + cy - v)^2))}; {@code rmsMm} the same residual
 * in the cloud's units, {@code sqrt(mean((X - (u - cx) Z/fx)^2 + (Y - (v - cy) Z/fy)^2))}.
 */
public record IntrinsicsFit(CameraIntrinsics intrinsics, long pixels, double rmsPixels, double rmsMm) {

    /** Fits the intrinsics of {@code cloud}; throws LoraException naming {@code file} if it cannot. */
    public static IntrinsicsFit of(PointCloud cloud, Path file) {
        int h = cloud.h();
        int w = cloud.w();
        float[] p = cloud.xyz();
        double[] su = new double[5]; // n, sum u, sum u^2, sum x, sum u x
        double[] sv = new double[5];
        for (int v = 0; v < h; v++) {
            for (int u = 0; u < w; u++) {
                int i = 3 * (v * w + u);
                if (!usable(p, i)) {
                    continue;
                }
                accumulate(su, u, p[i] / (double) p[i + 2]);
                accumulate(sv, v, p[i + 1] / (double) p[i + 2]);
            }
        }
        long n = (long) su[0];
        double[] ab = line(su);
        double[] cd = line(sv);
        if (n < 3 || ab == null || cd == null) {
            throw LoraException.file(file, "cannot fit intrinsics: needs measured pixels in at least two rows and "
                    + "two columns with X, Y varying (" + n + " measured)");
        }
        if (!(ab[0] > 0) || !(cd[0] > 0)) {
            throw LoraException.file(file, "cannot fit intrinsics: X or Y does not grow with the column or row "
                    + "(not an organised camera cloud?)");
        }
        double fx = 1 / ab[0];
        double cx = -ab[1] / ab[0];
        double fy = 1 / cd[0];
        double cy = -cd[1] / cd[0];
        CameraIntrinsics k = new CameraIntrinsics(fx, fy, cx, cy, w, h);
        double sumPx = 0;
        double sumMm = 0;
        for (int v = 0; v < h; v++) {
            for (int u = 0; u < w; u++) {
                int i = 3 * (v * w + u);
                if (!usable(p, i)) {
                    continue;
                }
                double z = p[i + 2];
                double du = fx * p[i] / z + cx - u;
                double dv = fy * p[i + 1] / z + cy - v;
                sumPx += du * du + dv * dv;
                double dx = p[i] - (u - cx) * z / fx;
                double dy = p[i + 1] - (v - cy) * z / fy;
                sumMm += dx * dx + dy * dy;
            }
        }
        return new IntrinsicsFit(k, n, Math.sqrt(sumPx / n), Math.sqrt(sumMm / n));
    }

    private static boolean usable(float[] p, int i) {
        return Float.isFinite(p[i]) && Float.isFinite(p[i + 1]) && DepthMap.measured(p[i + 2]);
    }

    private static void accumulate(double[] s, double t, double y) {
        s[0]++;
        s[1] += t;
        s[2] += t * t;
        s[3] += y;
        s[4] += t * y;
    }

    /** Slope and intercept of y on t, or null when t does not vary. */
    private static double[] line(double[] s) {
        double n = s[0];
        double det = n * s[2] - s[1] * s[1];
        if (n < 2 || !(det > 0)) {
            return null;
        }
        double slope = (n * s[4] - s[1] * s[3]) / det;
        return new double[] {slope, (s[3] - slope * s[1]) / n};
    }
}
