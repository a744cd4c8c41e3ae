package com.loratool.data;

import com.loratool.LoraException;
import com.loratool.config.DataConfig;
import com.loratool.io.BatchFailures;
import com.loratool.io.Npy;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import org.opencv.core.CvType;
import org.opencv.core.Mat;
import org.opencv.imgproc.Imgproc;

/**
 * {@code lora data preview}: per sample {@code <stem>_rgb.png} (resized RGB),
 * {@code <stem>_z.png} (filled Z, turbo colour map from the sample's min to max, near = blue) and
 * {@code <stem>_mask.png} (white = measured); with npy also {@code <stem>_image.npy}
 * (3 x h x w float32, normalised), {@code <stem>_z.npy}, {@code <stem>_mask.npy} (h x w; mask as
 * bool) and {@code <stem>_zfull.npy} (filled Z at the file's own resolution).
 */
public final class Preview {
    private Preview() {}

    /**
     * Writes previews of every pair; returns the number of samples written. A pair that cannot be read or
     * written is recorded in {@code failures} (or thrown, under fail-fast) and the others are written.
     */
    public static int write(DataConfig config, Path outDir, boolean npy, BatchFailures failures) {
        List<Pair> pairs = Pairing.pair(config).pairs();
        try {
            Files.createDirectories(outDir);
        } catch (IOException e) {
            throw LoraException.file(outDir, "cannot create folder (" + e.getMessage() + ")", e);
        }
        SamplePreparer prep = new SamplePreparer(config);
        int written = 0;
        try (ProgressBar pb = new ProgressBarBuilder().setTaskName("preview").setInitialMax(pairs.size())
                .setStyle(ProgressBarStyle.ASCII).continuousUpdate().setConsumer(
                        new ConsoleProgressBarConsumer(System.err)).build()) {
            for (Pair p : pairs) {
                if (failures.attempt(p.image(), () -> write(prep.prepareFull(p), outDir, npy))) {
                    written++;
                }
                pb.step();
            }
        }
        return written;
    }

    /** The files one pair's preview writes, in the order {@link #write} writes them (for io.OutputNames). */
    public static List<String> fileNames(String stem, boolean npy) {
        List<String> png = List.of(stem + "_rgb.png", stem + "_z.png", stem + "_mask.png");
        return !npy ? png : List.of(png.get(0), png.get(1), png.get(2), stem + "_image.npy", stem + "_z.npy",
                stem + "_mask.npy", stem + "_zfull.npy");
    }

    private static void write(SamplePreparer.Prepared pr, Path outDir, boolean npy) {
        Sample s = pr.sample();
        List<Path> f = fileNames(s.stem(), npy).stream().map(outDir::resolve).toList();
        Cv.writePng(f.get(0), rgbBgr8(s));
        Cv.writePng(f.get(1), zColour(s.depth(), s.h(), s.w()));
        Cv.writePng(f.get(2), mask8(s.mask(), s.h(), s.w()));
        if (npy) {
            Npy.write(f.get(3), new long[] {3, s.h(), s.w()}, s.image());
            Npy.write(f.get(4), new long[] {s.h(), s.w()}, s.depth());
            Npy.writeBool(f.get(5), new long[] {s.h(), s.w()}, s.mask());
            Npy.write(f.get(6), new long[] {pr.srcH(), pr.srcW()}, pr.zFull());
        }
    }

    static Mat rgbBgr8(Sample s) {
        int plane = s.h() * s.w();
        byte[] b = new byte[3 * plane];
        for (int i = 0; i < plane; i++) {
            for (int c = 0; c < 3; c++) {
                double v = s.image()[c * plane + i] * Preprocessing.STD_F32[c] + Preprocessing.MEAN_F32[c];
                b[3 * i + (2 - c)] = (byte) Math.max(0, Math.min(255, Math.round(v * 255)));
            }
        }
        Mat m = new Mat(s.h(), s.w(), CvType.CV_8UC3);
        m.put(0, 0, b);
        return m;
    }

    static Mat zColour(float[] z, int h, int w) {
        float lo = Float.POSITIVE_INFINITY;
        float hi = Float.NEGATIVE_INFINITY;
        for (float v : z) {
            lo = Math.min(lo, v);
            hi = Math.max(hi, v);
        }
        double span = Math.max(1e-6, hi - lo);
        byte[] g = new byte[z.length];
        for (int i = 0; i < z.length; i++) {
            g[i] = (byte) Math.round((z[i] - lo) / span * 255);
        }
        Mat grey = new Mat(h, w, CvType.CV_8UC1);
        grey.put(0, 0, g);
        Mat col = new Mat();
        Imgproc.applyColorMap(grey, col, Imgproc.COLORMAP_TURBO);
        grey.release();
        return col;
    }

    static Mat mask8(boolean[] mask, int h, int w) {
        byte[] g = new byte[mask.length];
        for (int i = 0; i < g.length; i++) {
            g[i] = (byte) (mask[i] ? 255 : 0);
        }
        Mat m = new Mat(h, w, CvType.CV_8UC1);
        m.put(0, 0, g);
        return m;
    }
}
