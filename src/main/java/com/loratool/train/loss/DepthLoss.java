package com.loratool.train.loss;

import ai.djl.ndarray.NDArray;
import com.loratool.config.TrainSection;
import com.loratool.data.CameraIntrinsics;
import com.loratool.model.ModelConfig;

/**
 * A training loss on a batch: {@code pred} (B,H,W) is the model's output (a relative model's
 * inverse depth, or a metric model's depth in metres), {@code depth} (B,H,W) the target Z in mm
 * (> 0 everywhere; holes already filled), {@code mask} (B,H,W)
 * float 1 where the pixel counts, 0 elsewhere. Returns a scalar NDArray (differentiable in pred).
 * All reductions are batch-based: sums over every counted pixel of the batch divided by their number.
 */
public interface DepthLoss {
    NDArray compute(NDArray pred, NDArray depth, NDArray mask);

    /** True for a loss on metric depth (a metric model's output in metres, compared without alignment). */
    default boolean metric() {
        return false;
    }

    /**
     * True for a loss on relative DEPTH (a Depth Anything 3 da3mono output): its validation
     * metrics align depth, not disparity ({@code metrics.DepthAlignment}).
     */
    default boolean onDepth() {
        return false;
    }

    /**
     * A metric loss's prediction in metres from the network's output of an image at h x w (the
     * output itself, but for da3metric: focal x output / 300).
     */
    default float[] metres(float[] output, int h, int w) {
        return output;
    }

    /** The loss a config names (train.loss and its options) for a relative model. */
    static DepthLoss fromConfig(TrainSection t) {
        return fromConfig(t, null);
    }

    /**
     * The loss a config names for the model {@code model} (null: a relative model). The config
     * has been checked to name a loss of the model's kind (RunConfig#checkLossFor).
     */
    public static DepthLoss fromConfig(TrainSection t, ModelConfig model) {
        return fromConfig(t, model, null);
    }

    /**
     * {@link #fromConfig(TrainSection, ModelConfig)} with the training images' camera
     * {@code intrinsics}: a da3metric model's metric_silog needs them (metres = focal x output / 300);
     * the other losses ignore them.
     */
    public static DepthLoss fromConfig(TrainSection t, ModelConfig model, CameraIntrinsics intrinsics) {
        if (!t.loss().suits(model == null ? null : model.lossKind())) {
            throw new IllegalArgumentException("loss " + t.loss() + " is not for a " + (model == null ? "relative"
                    : model.isDa3() ? model.family().yamlName() : model.isMetric() ? "metric" : "relative") + " model");
        }
        return switch (t.loss()) {
            case metric_silog -> {
                if (!model.isDa3()) {
                    yield new MetricSiLogLoss(t.silogLambda(), t.minDepth(), model.maxDepth());
                }
                if (intrinsics == null) {
                    throw new IllegalArgumentException("metric_silog on a da3metric model needs the camera's intrinsics"
                            + " (metres = focal x output / 300)");
                }
                yield new Da3MetricLoss(t.silogLambda(), t.minDepth(), intrinsics);
            }
            case ssi -> new SsiLoss(t.gradMatchWeight(), t.gradMatchScales());
            case silog -> new SiLogLoss(t.silogLambda());
            case l1 -> new NormalisedTargetLoss(false);
            case mse -> new NormalisedTargetLoss(true);
            case depth_ssi -> new DepthSsiLoss();
        };
    }
}
