package com.loratool.train.loss;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;

/** Shared pieces of the losses: target disparity and per-image least-squares alignment. */
final class Disparity {
    private Disparity() {}

    static final int[] HW = {1, 2};

    /** Number of counted pixels per image, (B,1,1), at least 1 (so empty images divide safely). */
    static NDArray count(NDArray mask) {
        return mask.sum(HW, true).maximum(1f);
    }

    /**
     * Target disparity normalised per image: d = (1/Z) / mean over counted pixels of (1/Z), 0
     * outside the mask. Unit-free (mm or m give the same d), mean 1 over counted pixels.
     */
    static NDArray normalised(NDArray depth, NDArray mask) {
        // Z where counted, 1 elsewhere: no division by zero / negative depth outside the mask.
        NDArray safeZ = depth.mul(mask).add(mask.neg().add(1f));
        NDArray d = mask.div(safeZ);
        NDArray mean = d.sum(HW, true).div(count(mask));
        return d.div(mean.maximum(1e-12f));
    }

    /**
     * The prediction after the per-image scale s and shift t minimising sum_M (s p + t - d)^2.
     * Solved on the centred prediction (numerically stable for large offsets):
     * s = sum_M (p - pbar) d / sum_M (p - pbar)^2, t = dbar - s pbar.
     *
     * <p>s = 0 (the fit is the constant dbar) when the prediction is flat over the counted pixels:
     * its standard deviation at most {@link #FLAT_RELATIVE} of its mean magnitude (below float32
     * resolution) or {@link #FLAT_ABSOLUTE}. Solving anyway divides by a variance near zero: s and
     * its gradient (-cov / var^2) overflow float32 and the gradients turn NaN (a spread of 1e-18
     * did, as a random-weight model's nearly dead ReLU output can be).
     */
    static NDArray align(NDArray pred, NDArray d, NDArray mask) {
        NDArray n = count(mask);
        NDArray pbar = pred.mul(mask).sum(HW, true).div(n);
        NDArray dbar = d.mul(mask).sum(HW, true).div(n);
        NDArray centred = pred.sub(pbar);
        NDArray pc = centred.mul(mask);
        NDArray var = pc.square().sum(HW, true);
        NDArray cov = pc.mul(d).sum(HW, true);
        NDArray valid = var.gt(flatBound(pred, mask, n));
        NDArray s = cov.div(NDArrays.where(valid, var, var.onesLike())).mul(valid.toType(pred.getDataType(), false));
        return centred.mul(s).add(dbar);
    }

    static final float FLAT_RELATIVE = 1e-6f;
    static final float FLAT_ABSOLUTE = 1e-9f;

    /** n * ((FLAT_RELATIVE * mean_M |p|)^2 + FLAT_ABSOLUTE^2), outside the autograd graph. */
    private static NDArray flatBound(NDArray pred, NDArray mask, NDArray n) {
        try (NDArray p = pred.stopGradient()) {
            NDArray meanAbs = p.abs().mul(mask).sum(HW, true).div(n);
            return meanAbs.mul(FLAT_RELATIVE).square().add(FLAT_ABSOLUTE * FLAT_ABSOLUTE).mul(n);
        }
    }
}
