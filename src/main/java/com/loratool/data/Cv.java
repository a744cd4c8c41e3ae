package com.loratool.data;

import com.loratool.io.InputFiles;
import com.loratool.LoraException;
import com.loratool.io.AtomicFiles;
import com.loratool.io.NativeLibraries;
import java.nio.file.Path;
import nu.pattern.OpenCV;
import org.opencv.core.Core;
import org.opencv.core.CvException;
import org.opencv.core.Mat;
import org.opencv.core.MatOfByte;
import org.opencv.imgcodecs.Imgcodecs;

/**
 * Loads the OpenCV natives once and wraps a few Mat conversions. The library comes out of openpnp's
 * jar into the toolkit's cache ({@link NativeLibraries}), not into a fresh {@code java.io.tmpdir}
 * folder as {@code OpenCV.loadLocally()} would; on a platform the jar has no folder name for here,
 * openpnp's own loader is used, after a check of {@code java.io.tmpdir}.
 */
public final class Cv {
    private static volatile boolean loaded;

    private Cv() {}

    /** Loads OpenCV's native library (idempotent, thread-safe). */
    public static void load() {
        if (!loaded) {
            synchronized (Cv.class) {
                if (!loaded) {
                    String resource = bundledLibrary();
                    if (resource != null) {
                        NativeLibraries.load("OpenCV", resource);
                    } else {
                        NativeLibraries.requireTmpdir("OpenCV");
                        OpenCV.loadLocally();
                    }
                    loaded = true;
                }
            }
        }
    }

    /**
     * The library's path in openpnp's jar for this platform ({@code /nu/pattern/opencv/linux/x86_64/
     * libopencv_java490.so}), or null where the folder name is not known here.
     */
    static String bundledLibrary() {
        String arch = switch (NativeLibraries.arch()) {
            case "x86_64" -> "x86_64";
            case "aarch64" -> "ARMv8";
            default -> null;
        };
        String os = NativeLibraries.os();
        if (arch == null || !(os.equals("linux") || os.equals("osx") || os.equals("windows"))) {
            return null;
        }
        // Core.NATIVE_LIBRARY_NAME: "opencv_java490"; Core's static initialiser is plain Java (no native call)
        return "/nu/pattern/opencv/" + os + "/" + arch + "/" + System.mapLibraryName(Core.NATIVE_LIBRARY_NAME);
    }

    /**
     * The one image decode: OpenCV's imread with {@code flags}, where a file it cannot read, or
     * one whose header it refuses (an absurd size: CV_IO_MAX_IMAGE_* , a damaged TIFF strip),
     * is a one-line {@link LoraException} naming the file, never an OpenCV exception or an empty Mat.
     */
    public static Mat imread(Path file, int flags, String what) {
        load();
        InputFiles.regularFile(file); // OpenCV would block on a FIFO and call a folder "cannot decode"
        Mat m;
        try {
            m = Imgcodecs.imread(file.toString(), flags);
        } catch (CvException e) {
            String msg = String.valueOf(e.getMessage());
            int at = msg.indexOf("error: ");
            String reason = (at >= 0 ? msg.substring(at + 7) : msg).lines().findFirst().orElse("").strip();
            throw LoraException.file(file, "cannot decode " + what + " (" + reason + ")", e);
        }
        if (m.empty()) {
            throw LoraException.file(file, "cannot decode " + what + " (missing, corrupt or unsupported format)");
        }
        return m;
    }

    /**
     * {@link #imread} for an encoded file in memory (a network request's PNG/JPEG): OpenCV's imdecode
     * with {@code flags}; bytes it cannot decode are a one-line {@link LoraException} starting with
     * {@code what}, never an OpenCV exception or an empty Mat. Check the header's size first
     * ({@link ImageHeader#size(byte[])}): OpenCV allocates what the header claims.
     */
    public static Mat imdecode(byte[] bytes, int flags, String what) {
        load();
        Mat m;
        MatOfByte buf = new MatOfByte(bytes);
        try {
            m = Imgcodecs.imdecode(buf, flags);
        } catch (CvException e) {
            String msg = String.valueOf(e.getMessage());
            int at = msg.indexOf("error: ");
            String reason = (at >= 0 ? msg.substring(at + 7) : msg).lines().findFirst().orElse("").strip();
            throw new LoraException(what + ": cannot decode the image (" + reason + ")", e);
        } finally {
            buf.release();
        }
        if (m.empty()) {
            throw new LoraException(what + ": cannot decode the image (not a PNG, JPEG or other format OpenCV reads, "
                    + "or corrupt)");
        }
        return m;
    }

    /** Mat (CV_32F, any channels) → float[] in row-major, channel-interleaved order. */
    static float[] floats(Mat m) {
        Mat c = m.isContinuous() ? m : m.clone();
        float[] out = new float[(int) (c.total() * c.channels())];
        c.get(0, 0, out);
        return out;
    }

    /** float[] (interleaved) → new Mat of {@code type}. */
    static Mat mat(float[] data, int h, int w, int type) {
        Mat m = new Mat(h, w, type);
        m.put(0, 0, data);
        return m;
    }

    /** Encodes a Mat as PNG and writes it atomically. */
    static void writePng(Path file, Mat m) {
        MatOfByte buf = new MatOfByte();
        if (!Imgcodecs.imencode(".png", m, buf)) {
            throw LoraException.file(file, "cannot encode PNG");
        }
        AtomicFiles.writeBytes(file, buf.toArray());
    }
}
