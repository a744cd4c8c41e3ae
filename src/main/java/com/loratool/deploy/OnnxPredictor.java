package com.loratool.deploy;

import com.loratool.LoraException;
import com.loratool.config.SizeRule;
import com.loratool.config.Sizing;
import com.loratool.data.Preprocessing;
import com.loratool.model.DepthPredictor;
import com.loratool.model.nn.Interpolation;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.opencv.core.Mat;

/**
 * {@code infer_image} on an exported file, without libtorch: the official preprocessing
 * (keep-aspect bicubic resize to the model's size rule, mean/std), ONNX Runtime, and the depth
 * resized back to the image's size with the toolkit's bilinear align_corners weights
 * ({@link Interpolation#bilinearAlignCorners}), in Java.
 */
public final class OnnxPredictor implements AutoCloseable {
    private final OnnxRuntimeModel model;
    private final Preprocessing preprocessing;

    private OnnxPredictor(OnnxRuntimeModel model, int inputSize) {
        this.model = model;
        int[] fixed = model.fixedSize();
        // the official infer_image preprocessing at the file's size rule (the one Preprocessing)
        this.preprocessing = Preprocessing.official(fixed != null ? new SizeRule.Explicit(fixed[0], fixed[1])
                : SizeRule.lowerBound(inputSize));
        DepthPredictor.loadOpenCv();
    }

    /**
     * {@code inputSize} null: the file's metadata input_size (518 if absent); a fixed model uses its size and
     * refuses an {@code inputSize} (it cannot be honoured; never ignored without a word).
     */
    public static OnnxPredictor open(Path file, Integer inputSize, int threads) {
        return of(file, OnnxRuntimeModel.open(file, threads), inputSize);
    }

    /** As {@link #open}, on a model already open (closed here if refused). */
    public static OnnxPredictor of(Path file, OnnxRuntimeModel m, Integer inputSize) {
        if (m.hasSky()) {
            m.close();
            throw LoraException.file(file, "is a Depth Anything 3 graph (outputs depth and sky): this predictor runs "
                    + "Depth Anything V2 graphs (the preprocessing, sky fill and depth unit differ); open it with "
                    + "DepthEstimator.fromOnnx (lora predict --onnx), which runs it as model.Da3Predictor");
        }
        int[] fixed = m.fixedSize();
        if (fixed != null && inputSize != null) {
            m.close();
            throw LoraException.file(file, "is a fixed-size model (" + fixed[0] + "x" + fixed[1] + "): --input-size "
                    + inputSize + " cannot change it (drop --input-size, or export with --dynamic to choose the size here)");
        }
        int n;
        try {
            n = inputSize != null ? inputSize : Integer.parseInt(m.metadata().getOrDefault("input_size", "518"));
        } catch (NumberFormatException e) {
            m.close();
            throw LoraException.file(file, "metadata input_size '" + m.metadata().get("input_size") + "' is not a number");
        }
        if (n < 14) {
            m.close();
            throw new LoraException("--input-size " + n + ": must be at least 14");
        }
        return new OnnxPredictor(m, n);
    }

    public OnnxRuntimeModel model() {
        return model;
    }

    public boolean isMetric() {
        return model.isMetric();
    }

    /** The official {@code infer_image} preprocessing at the file's size rule. */
    public Preprocessing preprocessing() {
        return preprocessing;
    }

    /** The network size for an image: the file's fixed size, or the official keep-aspect rule. */
    public SizeRule sizeRule() {
        return preprocessing.sizeRule();
    }

    /** 8-bit BGR images of one size → depth at that size, row-major, one per image. */
    public List<float[]> predict(List<Mat> bgr) {
        int h = bgr.get(0).rows();
        int w = bgr.get(0).cols();
        Sizing.Size sz = preprocessing.sizeRule().size(h, w);
        int[] size = {sz.height(), sz.width()};
        int n = bgr.size();
        int plane = 3 * size[0] * size[1];
        float[] x = new float[n * plane];
        for (int i = 0; i < n; i++) {
            if (bgr.get(i).rows() != h || bgr.get(i).cols() != w) {
                throw new IllegalArgumentException("predict needs images of one size");
            }
            System.arraycopy(preprocessing.fromBgr8(bgr.get(i)).chw(), 0, x, i * plane, plane);
        }
        float[] d = model.run(x, n, size[0], size[1]);
        List<float[]> out = new ArrayList<>(n);
        int sp = size[0] * size[1];
        for (int i = 0; i < n; i++) {
            float[] one = new float[sp];
            System.arraycopy(d, i * sp, one, 0, sp);
            out.add(resize(one, size[0], size[1], h, w));
        }
        return out;
    }

    /** Bilinear align_corners=True, (h, w) → (oh, ow) ({@link Interpolation#resizeBilinearAlignCorners}). */
    static float[] resize(float[] x, int h, int w, int oh, int ow) {
        return Interpolation.resizeBilinearAlignCorners(x, h, w, oh, ow);
    }

    @Override
    public void close() {
        model.close();
    }
}
