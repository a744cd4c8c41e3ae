package com.loratool.data;

import com.loratool.LoraException;
import com.loratool.config.DataConfig;
import com.loratool.io.Npy;
import com.loratool.io.NpyArray;
import com.loratool.io.Npz;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * An organised point cloud: {@code h x w x 3} float XYZ (mm) in row-major pixel order, NaN where
 * nothing was measured: the layout of structured-light camera exports (e.g. Zivid's
 * {@code _rawDepth.npy}).
 */
public record PointCloud(int h, int w, float[] xyz) {

    public PointCloud {
        if ((long) h * w * 3 != xyz.length) {
            throw new IllegalArgumentException(h + "x" + w + "x3 cloud needs " + (3L * h * w) + " values, got "
                    + xyz.length);
        }
    }

    /**
     * Back-projects depth Z (mm, {@code h x w}) through the pinhole: {@code X = (u - cx) Z / fx},
     * {@code Y = (v - cy) Z / fy}. Pixels without a measured Z ({@link DepthMap#measured}) become
     * (NaN, NaN, NaN).
     */
    public static PointCloud fromDepth(float[] z, int h, int w, CameraIntrinsics k) {
        if (z.length != h * w) {
            throw new IllegalArgumentException("depth has " + z.length + " values, expected " + h + "x" + w);
        }
        float[] p = new float[3 * z.length];
        for (int v = 0; v < h; v++) {
            for (int u = 0; u < w; u++) {
                int i = v * w + u;
                float d = z[i];
                if (DepthMap.measured(d)) {
                    p[3 * i] = (float) ((u - k.cx()) * d / k.fx());
                    p[3 * i + 1] = (float) ((v - k.cy()) * d / k.fy());
                    p[3 * i + 2] = d;
                } else {
                    p[3 * i] = Float.NaN;
                    p[3 * i + 1] = Float.NaN;
                    p[3 * i + 2] = Float.NaN;
                }
            }
        }
        return new PointCloud(h, w, p);
    }

    /** Z per pixel (a copy). */
    public float[] z() {
        float[] z = new float[h * w];
        for (int i = 0; i < z.length; i++) {
            z[i] = xyz[3 * i + 2];
        }
        return z;
    }

    /** Number of points with finite X, Y and a measured Z. */
    public int countMeasured() {
        int n = 0;
        for (int i = 0; i < h * w; i++) {
            if (Float.isFinite(xyz[3 * i]) && Float.isFinite(xyz[3 * i + 1]) && DepthMap.measured(xyz[3 * i + 2])) {
                n++;
            }
        }
        return n;
    }

    /** Writes {@code h x w x 3} float32 {@code .npy}, atomically. */
    public void writeNpy(Path file) {
        Npy.write(file, new long[] {h, w, 3}, xyz);
    }

    /**
     * The file as an organised cloud if it is one ({@code .npy}/{@code .npz} of shape H x W x 3),
     * else null (another depth format: read it with {@link DepthReader}).
     */
    public static PointCloud readIfXyz(Path file, DataConfig cfg) {
        String ext = Pairing.extension(file);
        if (!ext.equals("npy") && !ext.equals("npz")) {
            return null;
        }
        NpyArray a = array(file, cfg); // read once: its shape decides, its data is the cloud
        long[] s = a.shape();
        return s.length == 3 && s[2] == 3 ? cloud(file, a, cfg) : null;
    }

    /**
     * Reads an organised cloud from {@code .npy} or {@code .npz} (the array chosen as
     * {@link DepthReader} does), values times {@link DataConfig#rawToMm()}.
     */
    public static PointCloud read(Path file, DataConfig cfg) {
        return cloud(file, array(file, cfg), cfg);
    }

    private static PointCloud cloud(Path file, NpyArray a, DataConfig cfg) {
        long[] s = a.shape();
        if (s.length != 3 || s[2] != 3 || s[0] < 1 || s[1] < 1) {
            throw LoraException.file(file, "expected an H x W x 3 XYZ point cloud, got shape " + a.shapeString());
        }
        float[] d = a.data();
        double k = cfg.rawToMm();
        if (k != 1.0) {
            for (int i = 0; i < d.length; i++) {
                d[i] = (float) (d[i] * k);
            }
        }
        return new PointCloud((int) s[0], (int) s[1], d);
    }

    private static NpyArray array(Path file, DataConfig cfg) {
        if (!Files.isRegularFile(file)) {
            throw LoraException.file(file, "file not found");
        }
        return switch (Pairing.extension(file)) {
            case "npy" -> Npy.read(file);
            case "npz" -> DepthReader.pickNpz(file, Npz.read(file), cfg.npzKey());
            default -> throw LoraException.file(file, "a point cloud must be .npy or .npz (H x W x 3 XYZ)");
        };
    }
}
