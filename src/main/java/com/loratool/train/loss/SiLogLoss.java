package com.loratool.train.loss;

import ai.djl.ndarray.NDArray;
import com.loratool.model.nn.Scalars;

/**
 * Scale-invariant log loss (Eigen et al. 2014) on depth after disparity alignment.
 *
 * <pre>
 * d  = (1/Z) / mean_M(1/Z);  a = max(s p + t, 1e-3)   aligned disparity as in the ssi loss
 * g  = log(1/a) - log(1/d) = log d - log a           log-depth error, counted pixels
 * L_i = mean_M(g^2) - lambda * mean_M(g)^2           per image (lambda = 0.5 by default)
 * L   = mean over images with counted pixels of L_i
 * </pre>
 */
public final class SiLogLoss implements DepthLoss {
    private final double lambda;

    public SiLogLoss(double lambda) {
        this.lambda = lambda;
    }

    @Override
    public NDArray compute(NDArray pred, NDArray depth, NDArray mask) {
        NDArray d = Disparity.normalised(depth, mask);
        NDArray a = Scalars.maximum(Disparity.align(pred, d, mask), 1e-3);
        // d is 0 outside the mask: log of (d where counted, 1 elsewhere)
        NDArray safeD = d.add(mask.neg().add(1f));
        NDArray g = safeD.log().sub(a.log()).mul(mask);
        NDArray n = Disparity.count(mask);
        NDArray meanG = g.sum(Disparity.HW, true).div(n);
        NDArray meanG2 = g.square().sum(Disparity.HW, true).div(n);
        NDArray perImage = meanG2.sub(Scalars.mul(meanG.square(), lambda)).reshape(-1);
        NDArray hasPixels = mask.sum(Disparity.HW, false).gt(0f).toType(pred.getDataType(), false);
        return perImage.mul(hasPixels).sum().div(hasPixels.sum().maximum(1f));
    }
}
