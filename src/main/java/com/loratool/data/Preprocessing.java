package com.loratool.data;

import com.loratool.LoraException;
import com.loratool.config.DataConfig;
import com.loratool.config.SizeRule;
import com.loratool.config.Sizing;
import org.opencv.core.CvType;
import org.opencv.core.Mat;
import org.opencv.core.Size;
import org.opencv.imgproc.Imgproc;

/**
 * The one preprocessing from an image to the network input {@code (3, h, w)} CHW float32:
 * RGB in [0, 1], resized to the {@link SizeRule}'s size, ImageNet-normalised with
 * {@link #MEAN}/{@link #STD}. Two paths, one type:
 *
 * <ul>
 *   <li>{@link #official(SizeRule)}: the official {@code infer_image} exactly (BGR to RGB, /255 in
 *       float64, cubic resize in float64, normalise), used for base weights ({@code predict
 *       --weights}, a checkpoint outside a run folder) so the parity with the official model holds
 *       to ~1e-6.
 *   <li>{@link #of(DataConfig)}: what training prepares (float32 RGB, the run's
 *       {@code data.image_interpolation}), used for a run's checkpoints in eval and predict so a
 *       model sees at inference what it saw in training.
 * </ul>
 *
 * @param sizeRule the network size for each image
 * @param interpolation OpenCV resize of the image ({@code nearest|linear|cubic|area|lanczos})
 * @param official true: the float64 {@code infer_image} path
 */
public record Preprocessing(SizeRule sizeRule, String interpolation, boolean official) {
    /** ImageNet mean and std (RGB), as the pretrained encoder expects. */
    public static final double[] MEAN = {0.485, 0.456, 0.406};
    public static final double[] STD = {0.229, 0.224, 0.225};
    /** The same rounded to float32, for the float32 paths (training, augmentation). */
    public static final float[] MEAN_F32 = {(float) MEAN[0], (float) MEAN[1], (float) MEAN[2]};
    public static final float[] STD_F32 = {(float) STD[0], (float) STD[1], (float) STD[2]};

    public Preprocessing {
        Interpolation.image(interpolation); // validates the name
    }

    /** The official {@code infer_image} preprocessing with {@code rule}. */
    public static Preprocessing official(SizeRule rule) {
        return new Preprocessing(rule, "cubic", true);
    }

    /** A run's preprocessing: its size rule and image interpolation. */
    public static Preprocessing of(DataConfig data) {
        return new Preprocessing(data.sizeRule(), data.imageInterpolation(), false);
    }

    /** A short key for cache folders: the size rule and the interpolation. */
    public String key() {
        return sizeRule.key() + "-" + interpolation + (official ? "-official" : "");
    }

    /** In words, for reports. */
    public String description() {
        return sizeRule.description() + ", " + interpolation + (official ? " (official infer_image)" : "");
    }

    /**
     * Depth Anything 3's official preprocessing ({@code InputProcessor}, {@code process_res_method
     * upper_bound_resize}) of an 8-bit BGR (or grey) image: RGB; the longest side scaled to
     * {@code processRes} (other side rounded; cv2 INTER_AREA when shrinking, INTER_CUBIC when
     * enlarging; nothing when the longest side already is {@code processRes}); then each side to
     * its nearest multiple of {@code patch} (a tie goes up; INTER_CUBIC if a side grows, else
     * INTER_AREA); all in 8 bits as the official code resizes its uint8 arrays; then /255 and
     * ImageNet mean/std in float32. The official output (and so the depth) stays at this processed
     * size.
     */
    public static NetworkInput da3UpperBound(Mat bgr, int processRes, int patch) {
        requireBgr8(bgr);
        if (processRes <= 0 || patch <= 0) {
            throw new LoraException("process_res " + processRes + " and patch size " + patch + " must be positive");
        }
        Mat rgb = new Mat();
        Mat scaled = new Mat();
        Mat fitted = new Mat();
        try {
            Imgproc.cvtColor(bgr, rgb, bgr.channels() == 1 ? Imgproc.COLOR_GRAY2RGB : Imgproc.COLOR_BGR2RGB);
            int h = rgb.rows();
            int w = rgb.cols();
            Mat cur = rgb;
            int longest = Math.max(h, w);
            if (longest != processRes) {
                double scale = (double) processRes / longest;
                int nw = Math.max(1, (int) Math.rint(w * scale));
                int nh = Math.max(1, (int) Math.rint(h * scale));
                Imgproc.resize(cur, scaled, new Size(nw, nh), 0, 0, scale > 1 ? Imgproc.INTER_CUBIC : Imgproc.INTER_AREA);
                cur = scaled;
                h = nh;
                w = nw;
            }
            int mh = Math.max(1, nearestMultiple(h, patch));
            int mw = Math.max(1, nearestMultiple(w, patch));
            return da3Normalized(da3Resized(cur, mh, mw, fitted), mh, mw);
        } finally {
            rgb.release();
            scaled.release();
            fitted.release();
        }
    }

    /**
     * Depth Anything 3's preprocessing for a network of one fixed size (a fixed-size ONNX graph):
     * RGB, the image resized to exactly {@code height x width} in 8 bits (cv2 INTER_CUBIC if a side
     * grows, else INTER_AREA, as {@link #da3UpperBound} resizes; nothing when the image already has
     * that size), /255, ImageNet mean/std. For an image of the graph's aspect this is
     * {@link #da3UpperBound} at {@code process_res = max(height, width)}.
     */
    public static NetworkInput da3Fixed(Mat bgr, int height, int width) {
        requireBgr8(bgr);
        Mat rgb = new Mat();
        Mat scaled = new Mat();
        try {
            Imgproc.cvtColor(bgr, rgb, bgr.channels() == 1 ? Imgproc.COLOR_GRAY2RGB : Imgproc.COLOR_BGR2RGB);
            return da3Normalized(da3Resized(rgb, height, width, scaled), height, width);
        } finally {
            rgb.release();
            scaled.release();
        }
    }

    private static void requireBgr8(Mat bgr) {
        if (bgr.empty() || bgr.depth() != CvType.CV_8U) {
            throw new LoraException("expected a non-empty 8-bit BGR or grey image, got " + bgr);
        }
    }

    /**
     * {@code rgb} at exactly {@code h x w} in 8 bits (cv2 INTER_CUBIC if a side grows, else
     * INTER_AREA) written into {@code out}; {@code rgb} itself when it already has that size.
     */
    private static Mat da3Resized(Mat rgb, int h, int w, Mat out) {
        if (rgb.rows() == h && rgb.cols() == w) {
            return rgb;
        }
        boolean up = h > rgb.rows() || w > rgb.cols();
        Imgproc.resize(rgb, out, new Size(w, h), 0, 0, up ? Imgproc.INTER_CUBIC : Imgproc.INTER_AREA);
        return out;
    }

    /** 8-bit RGB h x w → CHW float32, /255 then ImageNet mean/std. */
    private static NetworkInput da3Normalized(Mat rgb, int h, int w) {
        byte[] px = new byte[h * w * 3];
        rgb.get(0, 0, px);
        float[] chw = new float[3 * h * w];
        int plane = h * w;
        for (int i = 0; i < plane; i++) {
            for (int c = 0; c < 3; c++) {
                chw[c * plane + i] = ((px[3 * i + c] & 0xff) / 255f - MEAN_F32[c]) / STD_F32[c];
            }
        }
        return new NetworkInput(chw, h, w);
    }

    /** The multiple of {@code p} nearest to {@code x}; a tie goes up (as the official code). */
    static int nearestMultiple(int x, int p) {
        int down = x / p * p;
        int up = down + p;
        return Math.abs(up - x) <= Math.abs(x - down) ? up : down;
    }

    /** The network input of an 8-bit BGR (or grey) image, as {@code cv2.imread} gives. */
    public NetworkInput fromBgr8(Mat bgr) {
        requireBgr8(bgr);
        Mat rgb = new Mat();
        Mat f = new Mat();
        try {
            Imgproc.cvtColor(bgr, rgb, bgr.channels() == 1 ? Imgproc.COLOR_GRAY2RGB : Imgproc.COLOR_BGR2RGB);
            // the official path divides in float64, as the reference's numpy does
            rgb.convertTo(f, official ? CvType.CV_64FC3 : CvType.CV_32FC3, 1.0 / 255);
            return fromRgb(f);
        } finally {
            rgb.release();
            f.release();
        }
    }

    /** The network input of an RGB image in [0, 1] ({@code CV_32FC3} or {@code CV_64FC3}, {@link ImageReader}). */
    public NetworkInput fromRgb(Mat rgb) {
        Sizing.Size size = sizeRule.size(rgb.rows(), rgb.cols());
        int oh = size.height();
        int ow = size.width();
        Mat src = rgb;
        Mat img = new Mat();
        try {
            if (official && rgb.depth() != CvType.CV_64F) {
                src = new Mat();
                rgb.convertTo(src, CvType.CV_64FC3);
            }
            Imgproc.resize(src, img, new Size(ow, oh), 0, 0, Interpolation.image(interpolation));
            float[] chw = new float[3 * oh * ow];
            int plane = oh * ow;
            if (img.depth() == CvType.CV_64F) {
                double[] px = new double[plane * 3];
                img.get(0, 0, px);
                for (int i = 0; i < plane; i++) {
                    for (int c = 0; c < 3; c++) {
                        chw[c * plane + i] = (float) ((px[3 * i + c] - MEAN[c]) / STD[c]);
                    }
                }
            } else {
                float[] hwc = Cv.floats(img);
                for (int i = 0; i < plane; i++) {
                    for (int c = 0; c < 3; c++) {
                        chw[c * plane + i] = (hwc[3 * i + c] - MEAN_F32[c]) / STD_F32[c];
                    }
                }
            }
            return new NetworkInput(chw, oh, ow);
        } finally {
            img.release();
            if (src != rgb) {
                src.release();
            }
        }
    }
}
