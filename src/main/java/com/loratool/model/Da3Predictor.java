package com.loratool.model;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.loratool.LoraException;
import com.loratool.data.NetworkInput;
import com.loratool.data.Preprocessing;
import com.loratool.model.nn.Interpolation;
import org.opencv.core.Mat;

/**
 * Depth for an image from a Depth Anything 3 monocular model, as the official
 * {@code DepthAnything3.inference([image], process_res, "upper_bound_resize")} computes it:
 * {@link Preprocessing#da3UpperBound} (longest side to {@code process_res}, sides to multiples of
 * 14; a network of one fixed size: {@link Preprocessing#da3Fixed}), the network's depth and sky
 * ({@link Forward}: libtorch's {@link DepthAnythingV2#forwardWithSky}, or an exported graph in ONNX
 * Runtime), the sky post-processing {@link Da3Outputs#skyFill} (unless switched off) over this one
 * image; then, unlike the official code (whose output stays at the processed size), the depth and
 * the sky output are resized to the image's size, bilinear with align_corners=True (as V2's
 * {@code infer_image} resizes its output; {@link Interpolation#resizeBilinearAlignCorners}). An
 * image already at the processed size is not resized: its depth is the official result itself.
 */
public final class Da3Predictor {
    /** The official default {@code process_res} of {@code DepthAnything3.inference}. */
    public static final int DEFAULT_PROCESS_RES = 504;

    /**
     * The one network step: a preprocessed image, 1 x 3 x h x w (CHW), to the head's depth and
     * the sky output before any post-processing, {@code {depth, sky}}, h x w values each.
     */
    public interface Forward {
        float[][] depthAndSky(float[] chw, int h, int w);
    }

    private final Forward forward;
    private final int patch;
    private final int processRes;
    private final int[] fixedSize;
    private final boolean skyFill;

    /**
     * One image's result at the image's size ({@code height x width}, row-major): {@code depth}
     * after the sky fill (or the head's depth without it), {@code sky} where the resized sky output
     * is at least {@link Da3Outputs#SKY_THRESHOLD}; {@code processedHeight x processedWidth}: the
     * network's size (the focal of DA3METRIC is at this resolution).
     */
    public record Result(int height, int width, float[] depth, boolean[] sky, int processedHeight, int processedWidth) {}

    /** The libtorch model. */
    public Da3Predictor(DepthAnythingV2 model, int processRes, boolean skyFill) {
        this(libtorch(model), model.config().patchSize(), processRes, null, skyFill);
    }

    /**
     * Any {@link Forward} (an ONNX graph): {@code fixedSize} {height, width} for a network of one
     * size (then {@code processRes} is ignored: {@link Preprocessing#da3Fixed}), or null.
     */
    public Da3Predictor(Forward forward, int patch, int processRes, int[] fixedSize, boolean skyFill) {
        if (fixedSize == null && processRes < patch) {
            throw new LoraException("--process-res " + processRes + ": must be at least " + patch);
        }
        this.forward = forward;
        this.patch = patch;
        this.processRes = processRes;
        this.fixedSize = fixedSize == null ? null : fixedSize.clone();
        this.skyFill = skyFill;
    }

    private static Forward libtorch(DepthAnythingV2 model) {
        if (!model.config().isDa3()) {
            throw new IllegalArgumentException("not a Depth Anything 3 model: " + model.config().describe());
        }
        return (chw, h, w) -> {
            try (NDManager step = model.manager().newSubManager()) {
                DepthAnythingV2.DepthAndSky o = model.forwardWithSky(step.create(chw, new Shape(1, 3, h, w)));
                return new float[][] {o.depth().toFloatArray(), o.sky().toFloatArray()};
            }
        };
    }

    public int processRes() {
        return processRes;
    }

    /** {height, width} of a network of one size, or null. */
    public int[] fixedSize() {
        return fixedSize == null ? null : fixedSize.clone();
    }

    public int patchSize() {
        return patch;
    }

    public boolean skyFill() {
        return skyFill;
    }

    /**
     * The network alone on one preprocessed image ({@code chw}: 3 x h x w, what
     * {@link Preprocessing#da3UpperBound} gives; h and w multiples of the patch size): the depth at
     * h x w after the sky fill of this one image (unless switched off), not resized, in the head's
     * unit (DA3METRIC: at the canonical 300 px focal, before {@link Da3Outputs#metres}). For an image
     * already at its processed size this is {@link #predict}'s depth.
     */
    public float[] depthAt(float[] chw, int h, int w) {
        if (chw.length != 3L * h * w) {
            throw new IllegalArgumentException(chw.length + " values for 3 x " + h + " x " + w);
        }
        return network(chw, h, w)[0];
    }

    /** {depth after the sky fill (or the head's), the sky output}, at the network's size. */
    private float[][] network(float[] chw, int h, int w) {
        float[][] o = forward.depthAndSky(chw, h, w);
        return new float[][] {skyFill ? Da3Outputs.skyFill(o[0], o[1]) : o[0], o[1]};
    }

    /** The result for an 8-bit BGR (or grey) image, as {@code cv2.imread} gives. */
    public Result predict(Mat bgr) {
        int h = bgr.rows();
        int w = bgr.cols();
        NetworkInput in = fixedSize != null ? Preprocessing.da3Fixed(bgr, fixedSize[0], fixedSize[1])
                : Preprocessing.da3UpperBound(bgr, processRes, patch);
        float[][] o = network(in.chw(), in.h(), in.w());
        float[] depth = o[0];
        float[] sky = o[1];
        depth = Interpolation.resizeBilinearAlignCorners(depth, in.h(), in.w(), h, w);
        sky = Interpolation.resizeBilinearAlignCorners(sky, in.h(), in.w(), h, w);
        return new Result(h, w, depth, Da3Outputs.skyMask(sky), in.h(), in.w());
    }
}
