package com.loratool.train.loss;

import ai.djl.ndarray.NDArray;
import com.loratool.config.TrainSection;
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

    /** The loss a config names (train.loss and its options) for a relative model. */
    static DepthLoss fromConfig(TrainSection t) {
        return fromConfig(t, null);
    }

    /**
     * The loss a config names for the model {@code model} (null: a relative model). The config
     * has been checked to name a loss of the model's kind (RunConfig#checkLossFor).
     */
    public static DepthLoss fromConfig(TrainSection t, ModelConfig model) {
        boolean metricModel = model != null && model.isMetric();
        if (!t.loss().suits(metricModel)) {
            throw new IllegalArgumentException("loss " + t.loss() + " is not for a " + (metricModel ? "metric" : "relative")
                    + " model");
        }
        return switch (t.loss()) {
            case metric_silog -> new MetricSiLogLoss(t.silogLambda(), t.minDepth(), model.maxDepth());
            case ssi -> new SsiLoss(t.gradMatchWeight(), t.gradMatchScales());
            case silog -> new SiLogLoss(t.silogLambda());
            case l1 -> new NormalisedTargetLoss(false);
            case mse -> new NormalisedTargetLoss(true);
        };
    }
}
