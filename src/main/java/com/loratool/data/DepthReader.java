package com.loratool.data;

import com.loratool.LoraException;
import com.loratool.config.DataConfig;
import com.loratool.io.Npy;
import com.loratool.io.NpyArray;
import com.loratool.io.Npz;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.opencv.core.CvType;
import org.opencv.core.Mat;
import org.opencv.imgcodecs.Imgcodecs;

/**
 * Reads Z (mm) from a depth or organised point-cloud file.
 *
 * <ul>
 *   <li>{@code .npy}: {@code H x W x 3} XYZ (Z = channel 2), {@code H x W x 1} or {@code H x W};
 *       float16/32/64, uint16, int16/32/64; C or Fortran order (via {@link Npy}).
 *   <li>{@code .npz}: the array named {@code npz_key}, else the only one, else one of
 *       {@code xyz, points, depth, z}.
 *   <li>TIFF / PNG: 1 channel (float or 16-bit) or 3 channels XYZ in file order (Z = the third
 *       channel of the file, which OpenCV's BGR order puts first).
 * </ul>
 * Values are multiplied by {@link DataConfig#rawToMm()} ({@code depth_scale} and {@code depth_units}).
 * NaN, inf and values {@code <= 0} stay as read and count as missing. 8-bit and bool data are
 * rejected (not depth).
 */
public final class DepthReader {
    private static final Set<String> NPY_DTYPES = Set.of("<f2", "<f4", "<f8", "<u2", "<i2", "<i4", "<i8",
            "f2", "f4", "f8", "u2", "i2", "i4", "i8");
    private static final List<String> NPZ_KEYS = List.of("xyz", "points", "depth", "z");

    private DepthReader() {}

    public static DepthMap read(Path file, DataConfig cfg) {
        if (!Files.isRegularFile(file)) {
            throw LoraException.file(file, "file not found");
        }
        String ext = Pairing.extension(file);
        DepthMap raw = switch (ext) {
            case "npy" -> fromArray(file, Npy.read(file));
            case "npz" -> fromArray(file, pickNpz(file, Npz.read(file), cfg.npzKey()));
            case "tif", "tiff", "png" -> fromImage(file);
            default -> throw LoraException.file(file, "unsupported depth format ." + ext + " (npy, npz, tif, png)");
        };
        double k = cfg.rawToMm();
        if (k != 1.0) {
            float[] z = raw.z();
            for (int i = 0; i < z.length; i++) {
                z[i] = (float) (z[i] * k);
            }
        }
        return raw;
    }

    static NpyArray pickNpz(Path file, Map<String, NpyArray> arrays, String key) {
        if (key != null) {
            NpyArray a = arrays.get(key);
            if (a == null) {
                throw LoraException.file(file, "no array '" + key + "' (has " + arrays.keySet() + ")");
            }
            return a;
        }
        if (arrays.size() == 1) {
            return arrays.values().iterator().next();
        }
        for (String k : NPZ_KEYS) {
            if (arrays.containsKey(k)) {
                return arrays.get(k);
            }
        }
        throw LoraException.file(file, "several arrays " + arrays.keySet() + "; set data.npz_key");
    }

    static DepthMap fromArray(Path file, NpyArray a) {
        String dt = a.dtype();
        if (!NPY_DTYPES.contains(dt)) {
            throw LoraException.file(file, "wrong dtype " + dt + " for depth (expected float16/32/64 or (u)int16/32/64)");
        }
        long[] s = a.shape();
        float[] d = a.data();
        if (s.length == 2 || (s.length == 3 && s[2] == 1)) {
            checkDims(file, s);
            return new DepthMap((int) s[0], (int) s[1], d);
        }
        if (s.length == 3 && s[2] == 3) {
            checkDims(file, s);
            int h = (int) s[0];
            int w = (int) s[1];
            float[] z = new float[h * w];
            for (int i = 0; i < z.length; i++) {
                z[i] = d[3 * i + 2];
            }
            return new DepthMap(h, w, z);
        }
        throw LoraException.file(file, "expected an H x W depth or H x W x 3 XYZ array, got shape " + a.shapeString());
    }

    private static void checkDims(Path file, long[] s) {
        if (s[0] < 1 || s[1] < 1) {
            throw LoraException.file(file, "empty depth array (shape " + Arrays.toString(s) + ")");
        }
    }

    static DepthMap fromImage(Path file) {
        Mat m = Cv.imread(file, Imgcodecs.IMREAD_UNCHANGED, "depth image");
        int depth = m.depth();
        if (depth == CvType.CV_8U || depth == CvType.CV_8S) {
            throw LoraException.file(file, "wrong dtype: 8-bit image is not depth (expected 16-bit or float)");
        }
        int ch = m.channels();
        if (ch != 1 && ch != 3) {
            throw LoraException.file(file, "expected 1 or 3 channels for depth, got " + ch);
        }
        Mat f = new Mat();
        m.convertTo(f, CvType.makeType(CvType.CV_32F, ch));
        m.release();
        float[] all = Cv.floats(f);
        int h = f.rows();
        int w = f.cols();
        f.release();
        if (ch == 1) {
            return new DepthMap(h, w, all);
        }
        float[] z = new float[h * w];
        for (int i = 0; i < z.length; i++) {
            z[i] = all[3 * i]; // BGR order in the Mat: file channel 2 (Z) comes first
        }
        return new DepthMap(h, w, z);
    }
}
