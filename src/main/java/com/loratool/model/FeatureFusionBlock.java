package com.loratool.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import com.loratool.model.nn.Conv2d;
import com.loratool.model.nn.Module;
import com.loratool.model.nn.Resampler;

/**
 * DPT {@code refinenetN}: (x + resConfUnit1(skip)) → resConfUnit2 → bilinear (align_corners)
 * to the given size or x2 → {@code out_conv} (1x1). Depth Anything 3's {@code refinenet4} has no
 * {@code resConfUnit1} (it never gets a skip input).
 */
public final class FeatureFusionBlock extends Module {
    private final Conv2d outConv;
    private final ResidualConvUnit rcu1;
    private final ResidualConvUnit rcu2;
    private final Resampler resampler;

    FeatureFusionBlock(NDManager manager, int features, Resampler resampler, boolean withSkipUnit) {
        this.resampler = resampler;
        outConv = addChild("out_conv", new Conv2d(manager, features, features, 1, 1, 0, true));
        rcu1 = withSkipUnit ? addChild("resConfUnit1", new ResidualConvUnit(manager, features)) : null;
        rcu2 = addChild("resConfUnit2", new ResidualConvUnit(manager, features));
    }

    /** x (B,F,h,w), skip null or (B,F,h,w); size null → 2x. */
    NDArray forward(NDArray x, NDArray skip, long[] size) {
        NDArray out = x;
        if (skip != null) {
            if (rcu1 == null) {
                throw new IllegalStateException("a fusion block without resConfUnit1 got a skip input");
            }
            out = out.add(rcu1.forward(skip));
        }
        out = rcu2.forward(out);
        long h = out.getShape().get(2);
        long w = out.getShape().get(3);
        int oh = (int) (size == null ? 2 * h : size[0]);
        int ow = (int) (size == null ? 2 * w : size[1]);
        out = resampler.bilinearAlignCorners(out, oh, ow);
        return outConv.forward(out);
    }
}
