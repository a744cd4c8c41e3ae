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

    /** The network input of an 8-bit BGR (or grey) image, as {@code cv2.imread} gives. */
    public NetworkInput fromBgr8(Mat bgr) {
        if (bgr.empty() || bgr.depth() != CvType.CV_8U) {
            throw new LoraException("expected a non-empty 8-bit BGR or grey image, got " + bgr);
        }
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
