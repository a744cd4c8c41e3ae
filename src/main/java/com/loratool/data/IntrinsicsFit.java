package com.loratool.data;

import com.loratool.LoraException;
import com.loratool.config.DataConfig;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Pinhole intrinsics fitted to organised XYZ clouds by least squares. Over the measured pixels
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
        Sums s = new Sums(cloud.h(), cloud.w());
        s.add(cloud);
        CameraIntrinsics k = s.solve(file);
        s.residuals(cloud, k);
        return s.result(k);
    }

    /**
     * One fit over several clouds of the same camera (the same resolution): the normal equations
     * of all their measured pixels together. Each file is read twice (fit, then residuals) so
     * that only one cloud is in memory at a time.
     */
    public static IntrinsicsFit joint(List<Path> files, DataConfig cfg) {
        if (files.isEmpty()) {
            throw new IllegalArgumentException("no files");
        }
        Sums s = null;
        for (Path f : files) {
            PointCloud c = PointCloud.read(f, cfg);
            if (s == null) {
                s = new Sums(c.h(), c.w());
            } else if (c.h() != s.h || c.w() != s.w) {
                throw LoraException.file(f, "cloud is " + c.h() + "x" + c.w() + ", the first one " + s.h + "x" + s.w
                        + " (one joint fit needs one resolution)");
            }
            s.add(c);
        }
        CameraIntrinsics k = s.solve(files.get(0).getParent() != null ? files.get(0).getParent() : files.get(0));
        for (Path f : files) {
            s.residuals(PointCloud.read(f, cfg), k);
        }
        return s.result(k);
    }

    /** The intrinsics plus the fit's pixel count and residuals, for a JSON file. */
    public Map<String, Object> toJson() {
        Map<String, Object> m = new LinkedHashMap<>(intrinsics.toJson());
        m.put("model", "pinhole, u = fx X/Z + cx, v = fy Y/Z + cy, pixel centres at integer u (column), v (row)");
        m.put("measured_pixels", pixels);
        m.put("rms_reprojection_px", rmsPixels);
        m.put("rms_mm", rmsMm);
        return m;
    }

    private static boolean usable(float[] p, int i) {
        return Float.isFinite(p[i]) && Float.isFinite(p[i + 1]) && DepthMap.measured(p[i + 2]);
    }

    /** Running sums of the two line fits and of the residuals. */
    private static final class Sums {
        final int h;
        final int w;
        final double[] su = new double[5]; // n, sum u, sum u^2, sum x, sum u x
        final double[] sv = new double[5];
        double sumPx;
        double sumMm;

        Sums(int h, int w) {
            this.h = h;
            this.w = w;
        }

        void add(PointCloud c) {
            float[] p = c.xyz();
            for (int v = 0; v < h; v++) {
                for (int u = 0; u < w; u++) {
                    int i = 3 * (v * w + u);
                    if (usable(p, i)) {
                        accumulate(su, u, p[i] / (double) p[i + 2]);
                        accumulate(sv, v, p[i + 1] / (double) p[i + 2]);
                    }
                }
            }
        }

        CameraIntrinsics solve(Path file) {
            long n = (long) su[0];
            double[] ab = line(su);
            double[] cd = line(sv);
            if (n < 3 || ab == null || cd == null) {
                throw LoraException.file(file, "cannot fit intrinsics: needs measured pixels in at least two rows "
                        + "and two columns (" + n + " measured)");
            }
            if (!(ab[0] > 0) || !(cd[0] > 0)) {
                throw LoraException.file(file, "cannot fit intrinsics: X or Y does not grow with the column or row "
                        + "(not an organised camera cloud?)");
            }
            try { // the fit on the cloud's own grid: no camera's intrinsics (CameraIntrinsics.problem) are no fit
                return new CameraIntrinsics(1 / ab[0], 1 / cd[0], -ab[1] / ab[0], -cd[1] / cd[0], w, h);
            } catch (IllegalArgumentException e) {
                throw LoraException.file(file, "cannot fit intrinsics: " + e.getMessage());
            }
        }

        void residuals(PointCloud c, CameraIntrinsics k) {
            float[] p = c.xyz();
            for (int v = 0; v < h; v++) {
                for (int u = 0; u < w; u++) {
                    int i = 3 * (v * w + u);
                    if (!usable(p, i)) {
                        continue;
                    }
                    double z = p[i + 2];
                    double du = k.fx() * p[i] / z + k.cx() - u;
                    double dv = k.fy() * p[i + 1] / z + k.cy() - v;
                    sumPx += du * du + dv * dv;
                    double dx = p[i] - (u - k.cx()) * z / k.fx();
                    double dy = p[i + 1] - (v - k.cy()) * z / k.fy();
                    sumMm += dx * dx + dy * dy;
                }
            }
        }

        IntrinsicsFit result(CameraIntrinsics k) {
            long n = (long) su[0];
            return new IntrinsicsFit(k, n, Math.sqrt(sumPx / n), Math.sqrt(sumMm / n));
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
}
