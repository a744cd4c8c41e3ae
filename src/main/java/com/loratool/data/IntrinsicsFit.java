package com.loratool.data;

import com.loratool.LoraException;
import com.loratool.config.DataConfig;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

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
        return s.result(s.solve(file));
    }

    /**
     * One fit over several clouds of the same camera (the same resolution): the normal equations
     * of all their measured pixels together. Each file is read once (the residuals come from the same
     * running sums), one cloud in memory at a time.
     */
    public static IntrinsicsFit joint(List<Path> files, DataConfig cfg) {
        return joint(files, f -> PointCloud.read(f, cfg), null);
    }

    /**
     * {@link #joint(List, DataConfig)} with each file read by {@code reader} (once), and a progress bar
     * on {@code progress} (null: none) while the files are read.
     */
    public static IntrinsicsFit joint(List<Path> files, Function<Path, PointCloud> reader, PrintStream progress) {
        if (files.isEmpty()) {
            throw new IllegalArgumentException("no files");
        }
        Sums s = null;
        try (ProgressBar bar = progress == null ? null : new ProgressBarBuilder().setTaskName("intrinsics")
                .setInitialMax(files.size()).setStyle(ProgressBarStyle.ASCII).continuousUpdate()
                .setConsumer(new ConsoleProgressBarConsumer(progress)).build()) {
            for (Path f : files) {
                PointCloud c = reader.apply(f);
                if (s == null) {
                    s = new Sums(c.h(), c.w());
                } else if (c.h() != s.h || c.w() != s.w) {
                    throw LoraException.file(f, "cloud is " + c.h() + "x" + c.w() + ", the first one " + s.h + "x"
                            + s.w + " (one joint fit needs one resolution)");
                }
                s.add(c);
                if (bar != null) {
                    bar.step();
                }
            }
        }
        return s.result(s.solve(files.get(0).getParent() != null ? files.get(0).getParent() : files.get(0)));
    }

    /**
     * The camera of a data set's images: one joint fit ({@link #joint}) over the XYZ clouds of every
     * pair of {@code cfg}'s data, each file read once; null when the data has no pairs (the data stage
     * says what is missing). A depth file that is a Z map (no X, Y) is one line naming it, starting
     * with {@code why} (what needs the camera). {@code progress}: the reading's progress bar (null: none).
     */
    public static CameraIntrinsics ofData(DataConfig cfg, String why, PrintStream progress) {
        List<Path> depth = Pairing.pair(cfg).pairs().stream().map(Pair::depth).toList();
        if (depth.isEmpty()) {
            return null;
        }
        return joint(depth, f -> {
            PointCloud c = PointCloud.readIfXyz(f, cfg);
            if (c == null) {
                throw LoraException.file(f, why + ", fitted from the scans' XYZ clouds (lora data intrinsics); this"
                        + " depth file is a Z map without X and Y");
            }
            return c;
        }, progress).intrinsics();
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

    /**
     * Running sums of the two line fits ({@code X/Z = a u + b}, {@code Y/Z = c v + d}), with what the
     * residuals need, so that one pass over the clouds gives both: the pixel residual along u is
     * {@code (x - a u - b) / a} and the cloud-unit one {@code Z (x - a u - b)}, quadratic in the
     * fitted line, so their sums of squares follow from the sums of {@code 1, u, u^2, x, u x, x^2},
     * unweighted and weighted by {@code Z^2} (the same along v).
     */
    private static final class Sums {
        final int h;
        final int w;
        final double[] su = new double[6]; // n, sum u, sum u^2, sum x, sum u x, sum x^2
        final double[] sv = new double[6];
        final double[] wu = new double[6]; // the same weighted by Z^2
        final double[] wv = new double[6];

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
                        double z = p[i + 2];
                        double x = p[i] / z;
                        double y = p[i + 1] / z;
                        accumulate(su, 1, u, x);
                        accumulate(sv, 1, v, y);
                        accumulate(wu, z * z, u, x);
                        accumulate(wv, z * z, v, y);
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

        IntrinsicsFit result(CameraIntrinsics k) {
            long n = (long) su[0];
            // along u: a = 1/fx, b = -cx/fx; along v: c = 1/fy, d = -cy/fy
            double a = 1 / k.fx();
            double b = -k.cx() / k.fx();
            double c = 1 / k.fy();
            double d = -k.cy() / k.fy();
            double px = squares(su, a, b) * k.fx() * k.fx() + squares(sv, c, d) * k.fy() * k.fy();
            double mm = squares(wu, a, b) + squares(wv, c, d);
            return new IntrinsicsFit(k, n, Math.sqrt(px / n), Math.sqrt(mm / n));
        }

        private static void accumulate(double[] s, double weight, double t, double y) {
            s[0] += weight;
            s[1] += weight * t;
            s[2] += weight * t * t;
            s[3] += weight * y;
            s[4] += weight * t * y;
            s[5] += weight * y * y;
        }

        /** The sum of (weighted) squares of {@code y - slope t - icept} from the sums; never below 0 (rounding). */
        private static double squares(double[] s, double slope, double icept) {
            double q = s[5] - 2 * slope * s[4] - 2 * icept * s[3] + slope * slope * s[2] + 2 * slope * icept * s[1]
                    + icept * icept * s[0];
            return Math.max(0, q);
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
