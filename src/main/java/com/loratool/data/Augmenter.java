package com.loratool.data;

import com.loratool.config.DataConfig;
import java.util.Random;
import org.opencv.core.Core;
import org.opencv.core.CvType;
import org.opencv.core.Mat;
import org.opencv.core.Point;
import org.opencv.core.Scalar;
import org.opencv.core.Size;
import org.opencv.imgproc.Imgproc;

/**
 * Training-time augmentation of a prepared {@link Sample} (returns a new sample; the cached one
 * is never modified). Geometric ops are applied identically to image, depth and mask: horizontal
 * flip (p = 0.5) and rotation by U(-d, d) degrees about the centre (image cubic with reflected
 * border, depth nearest with replicated border, mask nearest with zero border so rotated-in
 * pixels are unmeasured). Colour jitter (brightness, contrast, saturation factors in
 * [1-j, 1+j]) touches the image only. First of all, the random resized crop ({@code crop_scale},
 * {@code crop_ratio}): a box of area fraction U(crop_scale, 1) and aspect the sample's times a
 * log-uniform factor in [lo, hi], at a uniform position, resized back to the sample's size (so the
 * size rule's multiple of 14 is kept and batches stack): image cubic or area, depth and mask
 * nearest (as the official code's Resize/Crop pair treats image and depth). One seeded
 * {@code Random} draws everything, in this order; a disabled step draws nothing.
 */
public final class Augmenter {
    private Augmenter() {}

    public static Sample apply(Sample s, DataConfig.Augment a, Random rnd) {
        if (!a.enabled()) {
            return s;
        }
        Sample out = s;
        if (a.crops()) {
            int[] box = cropBox(s.h(), s.w(), a, rnd);
            out = resizedCrop(out, box[0], box[1], box[2], box[3], a.cropInterpolation() == DataConfig.Augment.CropInterpolation.area
                    ? Imgproc.INTER_AREA : Imgproc.INTER_CUBIC);
        }
        if (a.hflip() && rnd.nextBoolean()) {
            out = flip(out);
        }
        if (a.rotateDegrees() > 0) {
            double deg = (rnd.nextDouble() * 2 - 1) * a.rotateDegrees();
            out = rotate(out, deg);
        }
        if (a.colorJitter() > 0) {
            double j = a.colorJitter();
            out = jitter(out, 1 + (rnd.nextDouble() * 2 - 1) * j, 1 + (rnd.nextDouble() * 2 - 1) * j,
                    1 + (rnd.nextDouble() * 2 - 1) * j);
        }
        return out;
    }

    /** {x0, y0, width, height} of a random crop of an h x w sample (area and aspect per {@code a}). */
    static int[] cropBox(int h, int w, DataConfig.Augment a, Random rnd) {
        double area = a.cropScale() + rnd.nextDouble() * (1 - a.cropScale());
        double lo = Math.log(a.cropRatio().get(0));
        double hi = Math.log(a.cropRatio().get(1));
        double r = Math.exp(lo + rnd.nextDouble() * (hi - lo));
        int cw = (int) Math.max(1, Math.min(w, Math.round(w * Math.sqrt(area * r))));
        int ch = (int) Math.max(1, Math.min(h, Math.round(h * Math.sqrt(area / r))));
        int x0 = rnd.nextInt(w - cw + 1);
        int y0 = rnd.nextInt(h - ch + 1);
        return new int[] {x0, y0, cw, ch};
    }

    /**
     * The box {@code (x0, y0, cw, ch)} of {@code s} resized back to {@code s}'s size: the image with
     * {@code imageInterp} (OpenCV INTER_CUBIC or INTER_AREA), depth and mask INTER_NEAREST.
     */
    public static Sample resizedCrop(Sample s, int x0, int y0, int cw, int ch, int imageInterp) {
        Cv.load();
        int h = s.h();
        int w = s.w();
        int plane = h * w;
        float[] img = new float[3 * plane];
        for (int c = 0; c < 3; c++) {
            float[] chn = new float[plane];
            System.arraycopy(s.image(), c * plane, chn, 0, plane);
            System.arraycopy(cropResize(chn, h, w, x0, y0, cw, ch, imageInterp), 0, img, c * plane, plane);
        }
        float[] dep = cropResize(s.depth(), h, w, x0, y0, cw, ch, Imgproc.INTER_NEAREST);
        float[] m = new float[plane];
        for (int i = 0; i < plane; i++) {
            m[i] = s.mask()[i] ? 1f : 0f;
        }
        float[] mr = cropResize(m, h, w, x0, y0, cw, ch, Imgproc.INTER_NEAREST);
        boolean[] mask = new boolean[plane];
        for (int i = 0; i < plane; i++) {
            mask[i] = mr[i] > 0.5f;
        }
        return new Sample(s.stem(), img, dep, mask, h, w);
    }

    private static float[] cropResize(float[] src, int h, int w, int x0, int y0, int cw, int ch, int interp) {
        Mat m = Cv.mat(src, h, w, CvType.CV_32FC1);
        Mat box = m.submat(y0, y0 + ch, x0, x0 + cw);
        Mat r = new Mat();
        Imgproc.resize(box, r, new Size(w, h), 0, 0, interp);
        float[] out = Cv.floats(r);
        box.release();
        m.release();
        r.release();
        return out;
    }

    /** Mirror left-right. */
    public static Sample flip(Sample s) {
        int h = s.h();
        int w = s.w();
        float[] img = new float[s.image().length];
        float[] dep = new float[h * w];
        boolean[] mask = new boolean[h * w];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int src = y * w + x;
                int dst = y * w + (w - 1 - x);
                dep[dst] = s.depth()[src];
                mask[dst] = s.mask()[src];
                for (int c = 0; c < 3; c++) {
                    img[c * h * w + dst] = s.image()[c * h * w + src];
                }
            }
        }
        return new Sample(s.stem(), img, dep, mask, h, w);
    }

    /** Rotate by {@code degrees} (counter-clockwise) about the image centre. */
    public static Sample rotate(Sample s, double degrees) {
        Cv.load();
        int h = s.h();
        int w = s.w();
        int plane = h * w;
        Mat rot = Imgproc.getRotationMatrix2D(new Point((w - 1) / 2.0, (h - 1) / 2.0), degrees, 1.0);
        Size size = new Size(w, h);
        float[] img = new float[3 * plane];
        for (int c = 0; c < 3; c++) {
            float[] ch = new float[plane];
            System.arraycopy(s.image(), c * plane, ch, 0, plane);
            float[] r = warp(ch, h, w, rot, size, Imgproc.INTER_CUBIC, Core.BORDER_REFLECT_101);
            System.arraycopy(r, 0, img, c * plane, plane);
        }
        float[] dep = warp(s.depth(), h, w, rot, size, Imgproc.INTER_NEAREST, Core.BORDER_REPLICATE);
        float[] m = new float[plane];
        for (int i = 0; i < plane; i++) {
            m[i] = s.mask()[i] ? 1f : 0f;
        }
        float[] mr = warp(m, h, w, rot, size, Imgproc.INTER_NEAREST, Core.BORDER_CONSTANT);
        boolean[] mask = new boolean[plane];
        for (int i = 0; i < plane; i++) {
            mask[i] = mr[i] > 0.5f;
        }
        rot.release();
        return new Sample(s.stem(), img, dep, mask, h, w);
    }

    private static float[] warp(float[] src, int h, int w, Mat rot, Size size, int interp, int border) {
        Mat m = Cv.mat(src, h, w, CvType.CV_32FC1);
        Mat r = new Mat();
        Imgproc.warpAffine(m, r, rot, size, interp, border, new Scalar(0));
        float[] out = Cv.floats(r);
        m.release();
        r.release();
        return out;
    }

    /** Brightness, contrast and saturation factors on the (un-normalised) RGB image; clamps to [0, 1]. */
    public static Sample jitter(Sample s, double brightness, double contrast, double saturation) {
        int plane = s.h() * s.w();
        float[][] rgb = new float[3][plane];
        double meanGrey = 0;
        for (int i = 0; i < plane; i++) {
            for (int c = 0; c < 3; c++) {
                rgb[c][i] = (float) ((s.image()[c * plane + i] * Preprocessing.STD_F32[c] + Preprocessing.MEAN_F32[c]) * brightness);
            }
            meanGrey += grey(rgb, i);
        }
        meanGrey /= plane;
        float[] img = new float[3 * plane];
        for (int i = 0; i < plane; i++) {
            for (int c = 0; c < 3; c++) {
                rgb[c][i] = (float) ((rgb[c][i] - meanGrey) * contrast + meanGrey);
            }
            double g = grey(rgb, i);
            for (int c = 0; c < 3; c++) {
                double v = (rgb[c][i] - g) * saturation + g;
                v = Math.min(1, Math.max(0, v));
                img[c * plane + i] = (float) ((v - Preprocessing.MEAN_F32[c]) / Preprocessing.STD_F32[c]);
            }
        }
        return new Sample(s.stem(), img, s.depth(), s.mask(), s.h(), s.w());
    }

    private static double grey(float[][] rgb, int i) {
        return 0.299 * rgb[0][i] + 0.587 * rgb[1][i] + 0.114 * rgb[2][i];
    }
}
