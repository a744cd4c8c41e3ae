package com.loratool.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.loratool.config.Sizing;
import com.loratool.data.Cv;
import com.loratool.data.NetworkInput;
import com.loratool.data.Preprocessing;
import com.loratool.model.nn.Resampler;
import java.util.ArrayList;
import java.util.List;
import org.opencv.core.CvType;
import org.opencv.core.Mat;
import org.opencv.imgproc.Imgproc;

/**
 * Depth for images from a model: the model's {@link Preprocessing} (the official
 * {@code infer_image} path for base weights, the run's for its checkpoints), forward, bilinear
 * (align_corners=True) back to the image's size. Holds no weights of its own.
 */
public final class DepthPredictor {
    private final DepthAnythingV2 model;
    private final Preprocessing preprocessing;

    public DepthPredictor(DepthAnythingV2 model, Preprocessing preprocessing) {
        this.model = model;
        this.preprocessing = preprocessing;
        loadOpenCv();
    }

    /** Loads the OpenCV natives once per JVM (data.Cv owns the loading). */
    public static void loadOpenCv() {
        Cv.load();
    }

    public Preprocessing preprocessing() {
        return preprocessing;
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
        int n = images.size();
        Sizing.Size size = preprocessing.sizeRule().size(h, w);
        float[] batch = new float[n * 3 * size.height() * size.width()];
        for (int i = 0; i < n; i++) {
            float[] one = preprocessing.fromBgr8(images.get(i)).chw();
            System.arraycopy(one, 0, batch, i * one.length, one.length);
        }
        NDManager base = model.manager();
        List<float[]> out = new ArrayList<>(n);
        try (NDManager step = base.newSubManager()) {
            NDArray x = step.create(batch, new Shape(n, 3, size.height(), size.width()));
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
     * The network alone on {@code n} preprocessed images ({@code x}: n x 3 x h x w, as
     * {@link Preprocessing} makes them): depth n x h x w at the network's size, no resize.
     */
    public float[] forward(float[] x, int n, int h, int w) {
        try (NDManager step = model.manager().newSubManager()) {
            return model.forward(step.create(x, new Shape(n, 3, h, w))).toFloatArray();
        }
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
