package com.loratool.train.loss;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;

/**
 * L1 or MSE between the raw prediction and the min-max normalised target disparity.
 *
 * <pre>
 * d  = 1/Z;  n = (d - min_M d) / (max_M d - min_M d)    per image, in [0, 1] on counted pixels
 * L1 = sum_M |p - n| / |M|;   MSE = sum_M (p - n)^2 / |M|   over the whole batch
 * </pre>
 * Not scale invariant: the model learns to output disparity in [0, 1] (near = 1).
 */
public final class NormalisedTargetLoss implements DepthLoss {
    private final boolean squared;

    public NormalisedTargetLoss(boolean squared) {
        this.squared = squared;
    }

    @Override
    public NDArray compute(NDArray pred, NDArray depth, NDArray mask) {
        NDArray d = Disparity.normalised(depth, mask); // scale does not matter after min-max
        NDArray counted = mask.gt(0f);
        long b = d.getShape().get(0);
        NDArray lo = NDArrays.where(counted, d, d.onesLike().mul(Float.MAX_VALUE)).reshape(b, -1).min(new int[] {1}, true)
                .reshape(b, 1, 1);
        NDArray hi = NDArrays.where(counted, d, d.onesLike().mul(-Float.MAX_VALUE)).reshape(b, -1).max(new int[] {1}, true)
                .reshape(b, 1, 1);
        NDArray range = hi.sub(lo);
        NDArray hasRange = range.gt(0f);
        range = NDArrays.where(hasRange, range, range.onesLike());
        lo = NDArrays.where(hasRange, lo, lo.zerosLike());
        NDArray n = d.sub(lo).div(range);
        NDArray diff = pred.sub(n).mul(mask);
        NDArray e = squared ? diff.square() : diff.abs();
        return e.sum().div(mask.sum().maximum(1f));
    }
}
