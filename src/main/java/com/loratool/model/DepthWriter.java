package com.loratool.model;

import com.loratool.LoraException;
import com.loratool.io.AtomicFiles;
import com.loratool.io.Finite;
import com.loratool.io.Npy;
import com.loratool.metrics.MetricDepth;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.opencv.core.CvType;
import org.opencv.core.Mat;
import org.opencv.core.MatOfByte;
import org.opencv.core.Point;
import org.opencv.core.Rect;
import org.opencv.core.Scalar;
import org.opencv.core.Size;
import org.opencv.imgcodecs.Imgcodecs;
import org.opencv.imgproc.Imgproc;

/**
 * Writes one prediction of {@code lora predict}, atomically, file by file.
 *
 * <p>Relative models: {@code <stem>.npy} (float32 H x W, the model's inverse depth without
 * unit) and {@code <stem>.png} (colour-mapped, near = bright).
 *
 * <p>Metric models (output in metres): depth in <b>millimetres</b>: {@code <stem>.npy} (float32
 * mm), {@code <stem>_mm.png} (16-bit grey PNG, mm rounded to integers and clamped to 0..65535,
 * so depths beyond 65.535 m read as 65535) and {@code <stem>.png} (colour-mapped, near = bright,
 * with a colour bar labelled in mm).
 */
public final class DepthWriter {
    /** Largest value of a 16-bit PNG: 65535 mm = 65.535 m. */
    public static final int PNG16_MAX_MM = 65535;

    private final boolean metric;
    /** Depth Anything 3: relative depth (larger = farther) when not metric, and a sky mask. */
    private final boolean da3;

    private DepthWriter(boolean metric) {
        this(metric, false);
    }

    private DepthWriter(boolean metric, boolean da3) {
        this.metric = metric;
        this.da3 = da3;
    }

    /**
     * The writer for a Depth Anything 3 model: metric (DA3METRIC with a focal: the mm files of V2's
     * metric models) or relative depth (DA3MONO: {@code <stem>.npy} float32 depth, larger = farther,
     * {@code <stem>.png} colour-mapped near = bright), and the sky mask {@code <stem>_sky.png}
     * (8-bit, 255 = sky) in both cases.
     */
    public static DepthWriter da3(boolean metric) {
        return new DepthWriter(metric, true);
    }

    /** The writer for a model's output: metric (mm) or relative. */
    public static DepthWriter of(ModelConfig config) {
        return new DepthWriter(config.isMetric());
    }

    /** The writer for metric (mm) or relative output (an ONNX file's metadata). */
    public static DepthWriter of(boolean metric) {
        return new DepthWriter(metric);
    }

    public boolean metric() {
        return metric;
    }

    /** The names written for {@code stem}, for messages and help. */
    public List<String> fileNames(String stem) {
        List<String> depth = metric ? List.of(stem + ".npy", stem + "_mm.png", stem + ".png")
                : List.of(stem + ".npy", stem + ".png");
        if (!da3) {
            return depth;
        }
        List<String> out = new ArrayList<>(depth);
        out.add(stem + "_sky.png");
        return out;
    }

    /** Writes {@code <stem>_sky.png}: 255 where {@code sky}, 0 elsewhere (row-major h x w). */
    public void writeSky(Path dir, String stem, boolean[] sky, int h, int w) {
        DepthPredictor.loadOpenCv();
        byte[] px = new byte[sky.length];
        for (int i = 0; i < sky.length; i++) {
            px[i] = sky[i] ? (byte) 255 : 0;
        }
        Mat m = new Mat(h, w, CvType.CV_8UC1);
        m.put(0, 0, px);
        writePng(dir.resolve(stem + "_sky.png"), m);
        m.release();
    }

    /** Writes the files of one image's depth (row-major h x w, model units: metres or none). */
    public void write(Path dir, String stem, float[] depth, int h, int w) {
        // a NaN map is never written: it would pass for a result (non-finite weights or adapters upstream)
        Finite.require(dir.resolve(stem + ".npy"), "the predicted depth map (check the weights and adapters)", depth);
        DepthPredictor.loadOpenCv();
        if (!metric) {
            Npy.write(dir.resolve(stem + ".npy"), new long[] {h, w}, depth);
            float[] shown = depth;
            if (da3) { // depth: larger = farther; shown near = bright as V2's disparity
                shown = new float[depth.length];
                for (int i = 0; i < depth.length; i++) {
                    shown[i] = -depth[i];
                }
            }
            Mat colour = DepthPredictor.colorize(shown, h, w);
            writePng(dir.resolve(stem + ".png"), colour);
            colour.release();
            return;
        }
        float[] mm = MetricDepth.toMm(depth);
        Npy.write(dir.resolve(stem + ".npy"), new long[] {h, w}, mm);
        Mat grey16 = png16(mm, h, w);
        writePng(dir.resolve(stem + "_mm.png"), grey16);
        grey16.release();
        Mat colour = withColourBar(mm, h, w);
        writePng(dir.resolve(stem + ".png"), colour);
        colour.release();
    }

    /** mm → 16-bit Mat: rounded, clamped to 0..65535 (NaN → 0). */
    static Mat png16(float[] mm, int h, int w) {
        short[] px = new short[mm.length];
        for (int i = 0; i < mm.length; i++) {
            float v = mm[i];
            int q = Float.isNaN(v) ? 0 : (int) Math.min(PNG16_MAX_MM, Math.max(0, Math.round(v)));
            px[i] = (short) q;
        }
        Mat m = new Mat(h, w, CvType.CV_16UC1);
        m.put(0, 0, px);
        return m;
    }

    /**
     * The colour picture of a metric depth map: INFERNO with near = bright (min mm brightest),
     * beside a vertical colour bar from the nearest (top) to the farthest (bottom) depth, its
     * ends and middle labelled in mm.
     */
    static Mat withColourBar(float[] mm, int h, int w) {
        float min = Float.POSITIVE_INFINITY;
        float max = Float.NEGATIVE_INFINITY;
        for (float v : mm) {
            if (Float.isFinite(v)) {
                min = Math.min(min, v);
                max = Math.max(max, v);
            }
        }
        if (min > max) {
            min = 0;
            max = 0;
        }
        double range = max > min ? max - min : 1;
        byte[] g = new byte[mm.length];
        for (int i = 0; i < mm.length; i++) {
            double t = Float.isFinite(mm[i]) ? (max - mm[i]) / range : 0;
            g[i] = (byte) (int) Math.round(Math.max(0, Math.min(1, t)) * 255.0);
        }
        Mat grey = new Mat(h, w, CvType.CV_8UC1);
        grey.put(0, 0, g);

        // the bar: 255 (near, top) → 0 (far, bottom)
        int barW = Math.max(8, w / 24);
        byte[] ramp = new byte[h * barW];
        for (int y = 0; y < h; y++) {
            int v = h > 1 ? (int) Math.round(255.0 * (h - 1 - y) / (h - 1)) : 255;
            for (int x = 0; x < barW; x++) {
                ramp[y * barW + x] = (byte) v;
            }
        }
        Mat bar = new Mat(h, barW, CvType.CV_8UC1);
        bar.put(0, 0, ramp);

        String[] labels = {label(min), label((min + max) / 2), label(max)};
        double scale = Math.max(0.3, Math.min(1.0, h / 400.0));
        int thickness = 1;
        int[] baseline = new int[1];
        int textW = 0;
        int textH = 0;
        for (String s : labels) {
            Size sz = Imgproc.getTextSize(s, Imgproc.FONT_HERSHEY_SIMPLEX, scale, thickness, baseline);
            textW = Math.max(textW, (int) Math.ceil(sz.width));
            textH = Math.max(textH, (int) Math.ceil(sz.height));
        }
        int gap = Math.max(2, barW / 2);
        int canvasW = w + gap + barW + gap + textW + gap;
        Mat canvas = new Mat(h, canvasW, CvType.CV_8UC3, new Scalar(255, 255, 255));
        Mat colour = new Mat();
        Mat barColour = new Mat();
        try {
            Imgproc.applyColorMap(grey, colour, Imgproc.COLORMAP_INFERNO);
            Imgproc.applyColorMap(bar, barColour, Imgproc.COLORMAP_INFERNO);
            colour.copyTo(canvas.submat(new Rect(0, 0, w, h)));
            barColour.copyTo(canvas.submat(new Rect(w + gap, 0, barW, h)));
            int tx = w + gap + barW + gap;
            int[] ys = {textH + 1, h / 2 + textH / 2, h - baseline[0] - 1};
            for (int i = 0; i < 3; i++) {
                Imgproc.putText(canvas, labels[i], new Point(tx, ys[i]), Imgproc.FONT_HERSHEY_SIMPLEX, scale,
                        new Scalar(0, 0, 0), thickness, Imgproc.LINE_AA);
            }
            return canvas;
        } finally {
            grey.release();
            bar.release();
            colour.release();
            barColour.release();
        }
    }

    private static String label(double mm) {
        return String.format(Locale.ROOT, "%.0f mm", mm);
    }

    private static void writePng(Path file, Mat image) {
        MatOfByte png = new MatOfByte();
        try {
            if (!Imgcodecs.imencode(".png", image, png)) {
                throw LoraException.file(file, "PNG encoding failed");
            }
            AtomicFiles.writeBytes(file, png.toArray());
        } finally {
            png.release();
        }
    }
}
