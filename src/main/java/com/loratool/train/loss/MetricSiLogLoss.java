package com.loratool.train.loss;

import ai.djl.ndarray.NDArray;
import com.loratool.metrics.MetricDepth;
import com.loratool.model.nn.Scalars;

/**
 * The SiLog loss of the official metric training ({@code metric_depth/train.py} and
 * {@code util/loss.py} of Depth Anything V2) on a metric model's output in metres, without any
 * alignment:
 *
 * <pre>
 * T  = Z / 1000                                  target in metres (the data holds Z in mm)
 * V  = counted pixels with min_depth &lt;= T &lt;= max_depth, over the whole batch
 * g  = log T - log pred                          on V
 * L  = sqrt(mean_V(g^2) - lambda * mean_V(g)^2)  lambda = 0.5; no factor in front
 * </pre>
 * As in the official code the means pool every valid pixel of the batch (not per image), and the
 * prediction is used as it is (no clamp). Two guards change nothing else: the prediction is
 * raised to 1e-6 m before the log (a sigmoid underflowing to 0 would give -inf), and the radicand
 * to 1e-12 (so a batch without valid pixels, or a perfect prediction, gives a finite gradient
 * instead of sqrt's infinite slope at 0).
 */
public final class MetricSiLogLoss implements DepthLoss {
    /** The smallest prediction (metres) fed to the log. */
    static final double MIN_PREDICTION_M = 1e-6;
    /** The smallest radicand of the square root. */
    static final double MIN_RADICAND = 1e-12;

    private final double lambda;
    private final double minDepth;
    private final double maxDepth;

    /** {@code minDepth} and {@code maxDepth} in metres (train.min_depth, the model's max_depth). */
    public MetricSiLogLoss(double lambda, double minDepth, double maxDepth) {
        this.lambda = lambda;
        this.minDepth = minDepth;
        this.maxDepth = maxDepth;
    }

    @Override
    public boolean metric() {
        return true;
    }

    @Override
    public NDArray compute(NDArray pred, NDArray depth, NDArray mask) {
        NDArray target = Scalars.div(depth, MetricDepth.MM_PER_METRE);
        NDArray valid = mask.mul(target.gte(minDepth).toType(mask.getDataType(), false))
                .mul(target.lte(maxDepth).toType(mask.getDataType(), false));
        // log of (T where valid, 1 elsewhere): no log of 0 or of a negative hole value
        NDArray safeT = target.mul(valid).add(valid.neg().add(1f));
        NDArray g = safeT.log().sub(Scalars.maximum(pred, MIN_PREDICTION_M).log()).mul(valid);
        NDArray n = valid.sum().maximum(1f);
        NDArray meanG = g.sum().div(n);
        NDArray meanG2 = g.square().sum().div(n);
        NDArray radicand = meanG2.sub(Scalars.mul(meanG.square(), lambda));
        return Scalars.maximum(radicand, MIN_RADICAND).sqrt();
    }
}
