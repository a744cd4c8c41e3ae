package com.loratool.train.loss;

import ai.djl.ndarray.NDArray;
import com.loratool.config.TrainSection;

/**
 * A training loss on a batch: {@code pred} (B,H,W) is the model's relative inverse depth,
 * {@code depth} (B,H,W) the target Z (> 0 everywhere; holes already filled), {@code mask} (B,H,W)
 * float 1 where the pixel counts, 0 elsewhere. Returns a scalar NDArray (differentiable in pred).
 * All reductions are batch-based: sums over every counted pixel of the batch divided by their number.
 */
public interface DepthLoss {
    NDArray compute(NDArray pred, NDArray depth, NDArray mask);

    /** The loss a config names (train.loss and its options). */
    static DepthLoss fromConfig(TrainSection t) {
        return switch (t.loss) {
            case "ssi" -> new SsiLoss(t.gradMatchWeight, t.gradMatchScales);
            case "silog" -> new SiLogLoss(t.silogLambda);
            case "l1" -> new NormalisedTargetLoss(false);
            case "mse" -> new NormalisedTargetLoss(true);
            default -> throw new IllegalArgumentException("unknown loss " + t.loss);
        };
    }
}
