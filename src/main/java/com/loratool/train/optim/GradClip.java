package com.loratool.train.optim;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;

/** Global-norm gradient clipping, as {@code torch.nn.utils.clip_grad_norm_}, as tensor ops. */
public final class GradClip {
    private GradClip() {}

    /** Sum of squares of every gradient value (flat gradient): a 0-d tensor on its device. */
    public static NDArray squaredNorm(NDArray grad) {
        return grad.square().sum();
    }

    /**
     * Scales {@code grad} in place by min(1, max/(norm + 1e-6)), norm = sqrt({@code squaredNorm}),
     * as PyTorch does (no host read: the factor stays a tensor). {@code maxNorm <= 0} does nothing.
     */
    public static void clip(NDArray grad, NDArray squaredNorm, double maxNorm, NDManager scratch) {
        if (maxNorm <= 0) {
            return;
        }
        NDArray coef = Adam.scalar(scratch, maxNorm).div(squaredNorm.sqrt().add(Adam.scalar(scratch, 1e-6)));
        grad.muli(coef.minimum(Adam.scalar(scratch, 1)));
    }
}
