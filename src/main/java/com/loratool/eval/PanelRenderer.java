package com.loratool.eval;

import com.loratool.metrics.DisparityAlignment;
import java.util.Arrays;
import java.util.Locale;
import org.opencv.core.CvType;
import org.opencv.core.Mat;
import org.opencv.core.Point;
import org.opencv.core.Rect;
import org.opencv.core.Scalar;
import org.opencv.core.Size;
import org.opencv.imgproc.Imgproc;

/**
 * One picture per evaluated image: {@code image | ground-truth Z | LoRA prediction | original
 * prediction}, each panel titled. The three depth panels share one colour map (turbo, near =
 * blue, far = red) over the truth's 2nd..98th percentile range, with a colour bar in mm at the
 * right; pixels without a measured truth are neutral grey in the truth panel. Predictions must
 * already be aligned to the truth's scale ({@link DisparityAlignment#depths}). With error maps a
 * second row shows |Zp - Z| of both models on one shared scale (inferno, grey = unmeasured).
 */
public final class PanelRenderer {
    /** Height of the title strip above each row. */
    public static final int TITLE_HEIGHT = 28;
    /** Width of the colour bar area at the right (bar + labels). */
    public static final int BAR_WIDTH = 96;
    /** Panels wider than this are shrunk (keeping the aspect ratio). */
    public static final int MAX_PANEL_WIDTH = 480;
    /** BGR of missing truth. */
    public static final double[] GREY = {128, 128, 128};

    private PanelRenderer() {}

    /** Panel size for an image of w x h: {width, height}. */
    public static int[] panelSize(int w, int h) {
        double s = Math.min(1.0, (double) MAX_PANEL_WIDTH / w);
        return new int[] {Math.max(1, (int) Math.round(w * s)), Math.max(1, (int) Math.round(h * s))};
    }

    /** Size of the whole picture: {width, height}. */
    public static int[] pictureSize(int w, int h, boolean errorMaps) {
        int[] p = panelSize(w, h);
        return new int[] {4 * p[0] + BAR_WIDTH, (errorMaps ? 2 : 1) * (TITLE_HEIGHT + p[1])};
    }

    /**
     * Renders the picture (8-bit BGR). {@code image} is BGR 8-bit of h x w; the depth arrays are
     * row-major h x w in mm; {@code measured} marks pixels with a valid truth.
     */
    public static Mat render(Mat image, float[] truth, boolean[] measured, double[] lora, double[] original,
                             String loraTitle, boolean errorMaps) {
        int w = image.cols();
        int h = image.rows();
        if (truth.length != w * h || lora.length != w * h || original.length != w * h || measured.length != w * h) {
            throw new IllegalArgumentException("depth maps must have " + w + "x" + h + " pixels");
        }
        double[] range = range(truth, measured);
        int[] ps = panelSize(w, h);
        int[] total = pictureSize(w, h, errorMaps);
        Mat out = new Mat(total[1], total[0], CvType.CV_8UC3, new Scalar(255, 255, 255));
        int y0 = TITLE_HEIGHT;
        Mat bgr = new Mat();
        if (image.channels() == 1) {
            Imgproc.cvtColor(image, bgr, Imgproc.COLOR_GRAY2BGR);
        } else {
            image.copyTo(bgr);
        }
        place(out, bgr, 0, y0, ps, Imgproc.INTER_AREA);
        place(out, colour(truth, measured, range, Imgproc.COLORMAP_TURBO, w, h), ps[0], y0, ps, Imgproc.INTER_NEAREST);
        place(out, colour(toFloat(lora), null, range, Imgproc.COLORMAP_TURBO, w, h), 2 * ps[0], y0, ps, Imgproc.INTER_NEAREST);
        place(out, colour(toFloat(original), null, range, Imgproc.COLORMAP_TURBO, w, h), 3 * ps[0], y0, ps,
                Imgproc.INTER_NEAREST);
        title(out, "image", 0, ps[0]);
        title(out, "ground truth Z", ps[0], ps[0]);
        title(out, loraTitle, 2 * ps[0], ps[0]);
        title(out, "original", 3 * ps[0], ps[0]);
        colourBar(out, 4 * ps[0], y0, ps[1], range, Imgproc.COLORMAP_TURBO, "Z mm");
        if (errorMaps) {
            float[] e1 = new float[w * h];
            float[] e2 = new float[w * h];
            double max = 0;
            for (int i = 0; i < e1.length; i++) {
                if (measured[i]) {
                    e1[i] = (float) Math.abs(lora[i] - truth[i]);
                    e2[i] = (float) Math.abs(original[i] - truth[i]);
                }
            }
            max = Math.max(percentile(e1, measured, 0.98), percentile(e2, measured, 0.98));
            double[] er = {0, max > 0 ? max : 1};
            int y1 = 2 * TITLE_HEIGHT + ps[1];
            place(out, colour(e1, measured, er, Imgproc.COLORMAP_INFERNO, w, h), 2 * ps[0], y1, ps, Imgproc.INTER_NEAREST);
            place(out, colour(e2, measured, er, Imgproc.COLORMAP_INFERNO, w, h), 3 * ps[0], y1, ps, Imgproc.INTER_NEAREST);
            titleAt(out, "|error| " + loraTitle, 2 * ps[0], ps[0], y1 - 8);
            titleAt(out, "|error| original", 3 * ps[0], ps[0], y1 - 8);
            colourBar(out, 4 * ps[0], y1, ps[1], er, Imgproc.COLORMAP_INFERNO, "|dZ| mm");
        }
        return out;
    }

    /** The truth's 2nd and 98th percentile over measured pixels (so outliers do not wash out the picture). */
    static double[] range(float[] truth, boolean[] measured) {
        double lo = percentile(truth, measured, 0.02);
        double hi = percentile(truth, measured, 0.98);
        if (!(hi > lo)) {
            hi = lo + 1;
        }
        return new double[] {lo, hi};
    }

    static double percentile(float[] v, boolean[] measured, double q) {
        int n = 0;
        for (boolean b : measured) {
            n += b ? 1 : 0;
        }
        if (n == 0) {
            return 0;
        }
        float[] s = new float[n];
        int j = 0;
        for (int i = 0; i < v.length; i++) {
            if (measured[i]) {
                s[j++] = v[i];
            }
        }
        Arrays.sort(s);
        return s[(int) Math.min(n - 1, Math.round(q * (n - 1)))];
    }

    private static float[] toFloat(double[] d) {
        float[] f = new float[d.length];
        for (int i = 0; i < d.length; i++) {
            f[i] = (float) d[i];
        }
        return f;
    }

    /** Colour-maps h x w values onto [lo, hi] (clipped); pixels where {@code valid} is false are grey. */
    static Mat colour(float[] v, boolean[] valid, double[] range, int map, int w, int h) {
        byte[] g = new byte[w * h];
        double span = range[1] - range[0];
        for (int i = 0; i < g.length; i++) {
            double t = (v[i] - range[0]) / span;
            t = Double.isNaN(t) ? 0 : Math.max(0, Math.min(1, t));
            g[i] = (byte) Math.round(255 * t);
        }
        Mat gray = new Mat(h, w, CvType.CV_8UC1);
        gray.put(0, 0, g);
        Mat rgb = new Mat();
        Imgproc.applyColorMap(gray, rgb, map);
        gray.release();
        if (valid != null) {
            byte[] px = new byte[w * h * 3];
            rgb.get(0, 0, px);
            for (int i = 0; i < valid.length; i++) {
                if (!valid[i]) {
                    px[3 * i] = (byte) GREY[0];
                    px[3 * i + 1] = (byte) GREY[1];
                    px[3 * i + 2] = (byte) GREY[2];
                }
            }
            rgb.put(0, 0, px);
        }
        return rgb;
    }

    /** Resizes {@code src} to the panel size and copies it into {@code out} at (x, y); releases src. */
    private static void place(Mat out, Mat src, int x, int y, int[] ps, int interpolation) {
        Mat roi = out.submat(new Rect(x, y, ps[0], ps[1]));
        if (src.cols() == ps[0] && src.rows() == ps[1]) {
            src.copyTo(roi);
        } else {
            Mat r = new Mat();
            Imgproc.resize(src, r, new Size(ps[0], ps[1]), 0, 0, interpolation);
            r.copyTo(roi);
            r.release();
        }
        roi.release();
        src.release();
    }

    private static void title(Mat out, String text, int x, int width) {
        titleAt(out, text, x, width, TITLE_HEIGHT - 8);
    }

    private static void titleAt(Mat out, String text, int x, int width, int baseline) {
        double scale = 0.5;
        int[] base = new int[1];
        Size sz = Imgproc.getTextSize(text, Imgproc.FONT_HERSHEY_SIMPLEX, scale, 1, base);
        while (sz.width > width - 4 && scale > 0.3) {
            scale -= 0.05;
            sz = Imgproc.getTextSize(text, Imgproc.FONT_HERSHEY_SIMPLEX, scale, 1, base);
        }
        int tx = x + Math.max(2, (int) ((width - sz.width) / 2));
        Imgproc.putText(out, text, new Point(tx, baseline), Imgproc.FONT_HERSHEY_SIMPLEX, scale,
                new Scalar(0, 0, 0), 1, Imgproc.LINE_AA);
    }

    /** A vertical bar (low values at the bottom) with its range labelled in mm. */
    private static void colourBar(Mat out, int x, int y, int height, double[] range, int map, String unit) {
        int barW = 16;
        int bx = x + 8;
        float[] ramp = new float[height];
        for (int r = 0; r < height; r++) {
            ramp[r] = (float) (range[1] - (range[1] - range[0]) * r / Math.max(1, height - 1));
        }
        Mat col = colour(ramp, null, range, map, 1, height);
        Mat bar = new Mat();
        Imgproc.resize(col, bar, new Size(barW, height), 0, 0, Imgproc.INTER_NEAREST);
        Mat roi = out.submat(new Rect(bx, y, barW, height));
        bar.copyTo(roi);
        roi.release();
        bar.release();
        col.release();
        Scalar black = new Scalar(0, 0, 0);
        int lx = bx + barW + 4;
        double s = 0.4;
        Imgproc.putText(out, label(range[1]), new Point(lx, y + 12), Imgproc.FONT_HERSHEY_SIMPLEX, s, black, 1,
                Imgproc.LINE_AA);
        Imgproc.putText(out, label((range[0] + range[1]) / 2), new Point(lx, y + height / 2 + 4),
                Imgproc.FONT_HERSHEY_SIMPLEX, s, black, 1, Imgproc.LINE_AA);
        Imgproc.putText(out, label(range[0]), new Point(lx, y + height - 2), Imgproc.FONT_HERSHEY_SIMPLEX, s, black,
                1, Imgproc.LINE_AA);
        Imgproc.putText(out, unit, new Point(x + 4, y - 8), Imgproc.FONT_HERSHEY_SIMPLEX, 0.45, black, 1,
                Imgproc.LINE_AA);
    }

    private static String label(double v) {
        return Math.abs(v) >= 100 ? String.format(Locale.ROOT, "%.0f", v) : String.format(Locale.ROOT, "%.1f", v);
    }
}
