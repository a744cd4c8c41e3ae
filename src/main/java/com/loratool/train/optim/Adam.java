package com.loratool.train.optim;

import java.util.ArrayList;
import java.util.List;

/**
 * Adam / AdamW with PyTorch's semantics ({@code torch.optim.Adam}, {@code AdamW}), on host
 * float arrays (LoRA's trainable tensors are small; host state makes checkpoints and resume exact).
 *
 * <pre>
 * Adam:  g += wd * p                      (L2, only when weight_decay > 0)
 * AdamW: p *= 1 - lr * wd                 (decoupled decay)
 * m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2
 * p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
 * </pre>
 */
public final class Adam {
    private final boolean decoupled;
    private final float beta1;
    private final float beta2;
    private final float eps;
    private final float weightDecay;
    private final List<float[]> m = new ArrayList<>();
    private final List<float[]> v = new ArrayList<>();
    private long step;

    public Adam(boolean decoupled, double beta1, double beta2, double eps, double weightDecay) {
        this.decoupled = decoupled;
        this.beta1 = (float) beta1;
        this.beta2 = (float) beta2;
        this.eps = (float) eps;
        this.weightDecay = (float) weightDecay;
    }

    /** One update of every parameter in place; grads may be modified (L2 term). */
    public void step(List<float[]> params, List<float[]> grads, double lr) {
        if (m.isEmpty()) {
            for (float[] p : params) {
                m.add(new float[p.length]);
                v.add(new float[p.length]);
            }
        }
        step++;
        double bc1 = 1 - Math.pow(beta1, step);
        double bc2 = 1 - Math.pow(beta2, step);
        float stepSize = (float) (lr / bc1);
        float bc2Sqrt = (float) Math.sqrt(bc2);
        float decay = (float) (1 - lr * weightDecay);
        float oneMinusB1 = 1 - beta1;
        float oneMinusB2 = 1 - beta2;
        for (int i = 0; i < params.size(); i++) {
            float[] p = params.get(i);
            float[] g = grads.get(i);
            float[] mi = m.get(i);
            float[] vi = v.get(i);
            for (int j = 0; j < p.length; j++) {
                float gj = g[j];
                if (weightDecay != 0) {
                    if (decoupled) {
                        p[j] *= decay;
                    } else {
                        gj += weightDecay * p[j];
                    }
                }
                mi[j] += (gj - mi[j]) * oneMinusB1;
                vi[j] = vi[j] * beta2 + oneMinusB2 * gj * gj;
                float denom = (float) Math.sqrt(vi[j]) / bc2Sqrt + eps;
                p[j] -= stepSize * mi[j] / denom;
            }
        }
    }

    public long stepCount() {
        return step;
    }

    /** First and second moments, one pair per parameter (for checkpoints). */
    public List<float[]> firstMoments() {
        return m;
    }

    public List<float[]> secondMoments() {
        return v;
    }

    /** Restores a checkpointed state. */
    public void restore(long stepCount, List<float[]> first, List<float[]> second) {
        step = stepCount;
        m.clear();
        v.clear();
        for (float[] a : first) {
            m.add(a.clone());
        }
        for (float[] a : second) {
            v.add(a.clone());
        }
    }
}
