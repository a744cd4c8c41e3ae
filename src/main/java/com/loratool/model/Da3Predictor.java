package com.loratool.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.loratool.LoraException;
import com.loratool.data.NetworkInput;
import com.loratool.data.Preprocessing;
import com.loratool.model.nn.Resampler;
import org.opencv.core.Mat;

/**
 * Depth for an image from a Depth Anything 3 monocular model, as the official
 * {@code DepthAnything3.inference([image], process_res, "upper_bound_resize")} computes it:
 * {@link Preprocessing#da3UpperBound} (longest side to {@code process_res}, sides to multiples of
 * 14), {@link DepthAnythingV2#forwardWithSky}, the sky post-processing {@link Da3Outputs#skyFill}
 * (unless switched off) over this one image; then, unlike the official code (whose output stays at
 * the processed size), the depth and the sky output are resized to the image's size, bilinear with
 * align_corners=True (as V2's {@code infer_image} resizes its output). An image already at the
 * processed size is not resized: its depth is the official result itself.
 */
public final class Da3Predictor {
    /** The official default {@code process_res} of {@code DepthAnything3.inference}. */
    public static final int DEFAULT_PROCESS_RES = 504;

    private final DepthAnythingV2 model;
    private final int processRes;
    private final boolean skyFill;

    /**
     * One image's result at the image's size ({@code height x width}, row-major): {@code depth}
     * after the sky fill (or the head's depth without it), {@code sky} where the resized sky output
     * is at least {@link Da3Outputs#SKY_THRESHOLD}; {@code processedHeight x processedWidth}: the
     * network's size (the focal of DA3METRIC is at this resolution).
     */
    public record Result(int height, int width, float[] depth, boolean[] sky, int processedHeight, int processedWidth) {}

    public Da3Predictor(DepthAnythingV2 model, int processRes, boolean skyFill) {
        if (!model.config().isDa3()) {
            throw new IllegalArgumentException("not a Depth Anything 3 model: " + model.config().describe());
        }
        if (processRes < model.config().patchSize()) {
            throw new LoraException("--process-res " + processRes + ": must be at least " + model.config().patchSize());
        }
        this.model = model;
        this.processRes = processRes;
        this.skyFill = skyFill;
    }

    public int processRes() {
        return processRes;
    }

    public boolean skyFill() {
        return skyFill;
    }

    /** The result for an 8-bit BGR (or grey) image, as {@code cv2.imread} gives. */
    public Result predict(Mat bgr) {
        int h = bgr.rows();
        int w = bgr.cols();
        NetworkInput in = Preprocessing.da3UpperBound(bgr, processRes, model.config().patchSize());
        try (NDManager step = model.manager().newSubManager()) {
            NDArray x = step.create(in.chw(), new Shape(1, 3, in.h(), in.w()));
            DepthAnythingV2.DepthAndSky o = model.forwardWithSky(x);
            float[] head = o.depth().toFloatArray();
            float[] sky = o.sky().toFloatArray();
            float[] depth = skyFill ? Da3Outputs.skyFill(head, sky) : head;
            if (h != in.h() || w != in.w()) {
                Resampler r = new Resampler(step);
                depth = r.bilinearAlignCorners(step.create(depth, new Shape(1, in.h(), in.w())), h, w).toFloatArray();
                sky = r.bilinearAlignCorners(step.create(sky, new Shape(1, in.h(), in.w())), h, w).toFloatArray();
            }
            return new Result(h, w, depth, Da3Outputs.skyMask(sky), in.h(), in.w());
        }
    }
}
