package com.loratool.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.loratool.LoraException;
import com.loratool.config.Sizing;
import com.loratool.data.Cv;
import com.loratool.data.NetworkInput;
import com.loratool.model.nn.Resampler;
import java.util.ArrayList;
import java.util.List;
import org.opencv.core.CvType;
import org.opencv.core.Mat;
import org.opencv.core.Size;
import org.opencv.imgproc.Imgproc;

/**
 * The official {@code infer_image}: BGR → RGB, /255 (float64), keep-aspect lower-bound resize to
 * multiples of 14 with cubic interpolation, ImageNet normalisation, forward, bilinear
 * (align_corners=True) back to the image's size.
 */
public final class DepthPredictor {
    private static final double[] MEAN = {0.485, 0.456, 0.406};
    private static final double[] STD = {0.229, 0.224, 0.225};

    /** The network input size (height, width), multiples of 14, for a source image of h x w. */
    @FunctionalInterface
    public interface SizeRule {
        int[] size(int h, int w);
    }

    private final DepthAnythingV2 model;
    private final SizeRule sizeRule;

    /** The official infer_image rule: keep aspect, shorter side at least {@code inputSize}. */
    public DepthPredictor(DepthAnythingV2 model, int inputSize) {
        this(model, officialRule(inputSize));
    }

    /** Any size rule, e.g. the one a model was fine-tuned with ({@code data.scale}). */
    public DepthPredictor(DepthAnythingV2 model, SizeRule sizeRule) {
        this.model = model;
        this.sizeRule = sizeRule;
        loadOpenCv();
    }

    public static SizeRule officialRule(int inputSize) {
        if (inputSize < 14) {
            throw new LoraException("--input-size " + inputSize + ": must be at least 14");
        }
        return (h, w) -> networkSize(h, w, inputSize);
    }

    /** Loads the OpenCV natives once per JVM (data.Cv owns the loading). */
    public static void loadOpenCv() {
        Cv.load();
    }

    /** Network input size (height, width) for an image of h x w: the reference's Resize. */
    public static int[] networkSize(int h, int w, int inputSize) {
        Sizing.Size s = Sizing.lowerBound(h, w, inputSize);
        return new int[] {s.height(), s.width()};
    }

    /**
     * The preprocessed network input of one 8-bit BGR image as (3, h, w) float32 CHW values,
     * h x w from {@link #networkSize}.
     */
    public float[] preprocess(Mat bgr, int[] size) {
        Mat rgb = new Mat();
        Mat f = new Mat();
        Mat resized = new Mat();
        try {
            Imgproc.cvtColor(bgr, rgb, bgr.channels() == 1 ? Imgproc.COLOR_GRAY2RGB : Imgproc.COLOR_BGR2RGB);
            rgb.convertTo(f, CvType.CV_64FC3, 1.0 / 255); // as the reference: /255 whatever the depth
            Imgproc.resize(f, resized, new Size(size[1], size[0]), 0, 0, Imgproc.INTER_CUBIC);
            int h = size[0];
            int w = size[1];
            double[] px = new double[h * w * 3];
            resized.get(0, 0, px);
            float[] chw = new float[3 * h * w];
            int plane = h * w;
            for (int i = 0; i < plane; i++) {
                for (int c = 0; c < 3; c++) {
                    chw[c * plane + i] = (float) ((px[i * 3 + c] - MEAN[c]) / STD[c]);
                }
            }
            return chw;
        } finally {
            rgb.release();
            f.release();
            resized.release();
        }
    }

    /** Depth at the image's size, row-major float[H*W]. */
    public float[] predict(Mat bgr) {
        return predictBatch(List.of(bgr)).get(0);
    }

    /** Several images of one size in one forward pass; one float[H*W] per image. */
    public List<float[]> predictBatch(List<Mat> images) {
        int h = images.get(0).rows();
        int w = images.get(0).cols();
        for (Mat m : images) {
            if (m.rows() != h || m.cols() != w) {
                throw new IllegalArgumentException("predictBatch needs images of one size");
            }
        }
        int[] size = sizeRule.size(h, w);
        int n = images.size();
        float[] batch = new float[n * 3 * size[0] * size[1]];
        for (int i = 0; i < n; i++) {
            float[] one = preprocess(images.get(i), size);
            System.arraycopy(one, 0, batch, i * one.length, one.length);
        }
        NDManager base = model.manager();
        List<float[]> out = new ArrayList<>(n);
        try (NDManager step = base.newSubManager()) {
            NDArray x = step.create(batch, new Shape(n, 3, size[0], size[1]));
            NDArray depth = model.forward(x); // (n, h', w')
            NDArray full = new Resampler(step).bilinearAlignCorners(depth, h, w); // (n, H, W)
            float[] all = full.toFloatArray();
            int plane = h * w;
            for (int i = 0; i < n; i++) {
                float[] d = new float[plane];
                System.arraycopy(all, i * plane, d, 0, plane);
                out.add(d);
            }
        }
        return out;
    }

    /**
     * Depth at {@code h x w} (row-major float[h*w]) from an already preprocessed input (the data
     * stage's {@link NetworkInput}, as in training): forward, then bilinear (align_corners=True)
     * to {@code h x w}.
     */
    public float[] predict(NetworkInput in, int h, int w) {
        try (NDManager step = model.manager().newSubManager()) {
            NDArray x = step.create(in.chw(), new Shape(1, 3, in.h(), in.w()));
            NDArray depth = model.forward(x);
            return new Resampler(step).bilinearAlignCorners(depth, h, w).toFloatArray();
        }
    }

    /**
     * Colour-maps a depth map for viewing: min-max normalised to 0..255 (near = bright), OpenCV
     * INFERNO; returns an 8-bit BGR Mat (caller releases).
     */
    public static Mat colorize(float[] depth, int h, int w) {
        float min = Float.POSITIVE_INFINITY;
        float max = Float.NEGATIVE_INFINITY;
        for (float v : depth) {
            min = Math.min(min, v);
            max = Math.max(max, v);
        }
        double range = max > min ? max - min : 1;
        byte[] g = new byte[depth.length];
        for (int i = 0; i < depth.length; i++) {
            g[i] = (byte) (int) ((depth[i] - min) / range * 255.0);
        }
        Mat grey = new Mat(h, w, CvType.CV_8UC1);
        grey.put(0, 0, g);
        Mat colour = new Mat();
        Imgproc.applyColorMap(grey, colour, Imgproc.COLORMAP_INFERNO);
        grey.release();
        return colour;
    }
}
