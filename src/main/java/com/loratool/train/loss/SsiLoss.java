package com.loratool.train.loss;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.index.NDIndex;
import com.loratool.model.nn.Scalars;

/**
 * Scale-and-shift-invariant loss on disparity (MiDaS, Ranftl et al. 2020).
 *
 * <pre>
 * d      = (1/Z) / mean_M(1/Z)                 target disparity, per image, counted pixels M
 * (s, t) = argmin sum_M (s p + t - d)^2        closed-form least squares, per image
 * R      = s p + t - d
 * L_ssi  = sum_M |R| / |M|                     over the whole batch
 * L_grad = sum_k sum (|dx R_k| Mx_k + |dy R_k| My_k) / |M_k|,  R_k, M_k sampled every 2^k pixels,
 *          Mx/My = both neighbours counted      (multi-scale gradient matching, k = 0..scales-1)
 * L      = L_ssi + w * L_grad                  (w = grad_match_weight, 0 = off)
 * </pre>
 * Gradients flow through s and t, as in MiDaS.
 */
public final class SsiLoss implements DepthLoss {
    private final double gradWeight;
    private final int scales;

    public SsiLoss(double gradWeight, int scales) {
        this.gradWeight = gradWeight;
        this.scales = scales;
    }

    @Override
    public NDArray compute(NDArray pred, NDArray depth, NDArray mask) {
        NDArray d = Disparity.normalised(depth, mask);
        NDArray residual = Disparity.align(pred, d, mask).sub(d).mul(mask);
        NDArray total = mask.sum().maximum(1f);
        NDArray loss = residual.abs().sum().div(total);
        if (gradWeight > 0) {
            loss = loss.add(Scalars.mul(gradientMatching(residual, mask), gradWeight));
        }
        return loss;
    }

    /** residual (B,H,W) already multiplied by mask. */
    static NDArray gradientMatching(NDArray residual, NDArray mask, int scales) {
        NDArray sum = null;
        for (int k = 0; k < scales; k++) {
            int step = 1 << k;
            NDIndex every = new NDIndex(":, ::" + step + ", ::" + step);
            NDArray r = residual.get(every);
            NDArray m = mask.get(every);
            long h = r.getShape().get(1);
            long w = r.getShape().get(2);
            NDArray term = m.sum().mul(0f);
            if (w > 1) {
                NDArray gx = r.get(":, :, 1:").sub(r.get(":, :, :-1")).abs()
                        .mul(m.get(":, :, 1:")).mul(m.get(":, :, :-1"));
                term = term.add(gx.sum());
            }
            if (h > 1) {
                NDArray gy = r.get(":, 1:, :").sub(r.get(":, :-1, :")).abs()
                        .mul(m.get(":, 1:, :")).mul(m.get(":, :-1, :"));
                term = term.add(gy.sum());
            }
            NDArray scaled = term.div(m.sum().maximum(1f));
            sum = sum == null ? scaled : sum.add(scaled);
        }
        return sum;
    }

    private NDArray gradientMatching(NDArray residual, NDArray mask) {
        return gradientMatching(residual, mask, scales);
    }
}
