package com.loratool.train.loss;

import ai.djl.ndarray.NDArray;

/**
 * Scale-and-shift-invariant L1 on DEPTH, for a Depth Anything 3 monocular model (da3mono), whose
 * output is depth (the head's {@code exp}), not disparity; the loss of the PyTorch reference
 * behind {@code fixtures/da3-tiny-mono-pretrained} ({@code ref/fidelity_da3.py}):
 *
 * <pre>
 * (s, t) = argmin sum_M (s p + t - Z)^2        closed-form least squares, per image, counted pixels M
 * L      = sum_M |s p + t - Z| / sum_M Z       over the whole batch (= mean_M |s p + t - Z| / mean_M Z)
 * </pre>
 * Unit-free (Z in mm or m gives the same L). Gradients flow through s and t. A prediction flat
 * over an image's counted pixels is fitted by the constant mean Z (s = 0), as in {@link SsiLoss}.
 */
public final class DepthSsiLoss implements DepthLoss {
    @Override
    public NDArray compute(NDArray pred, NDArray depth, NDArray mask) {
        NDArray z = depth.mul(mask);
        NDArray residual = Disparity.align(pred, z, mask).sub(z).mul(mask);
        return residual.abs().sum().div(z.sum().maximum(1e-12f));
    }

    @Override
    public boolean onDepth() {
        return true;
    }
}
