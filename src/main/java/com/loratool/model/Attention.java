package com.loratool.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import com.loratool.model.nn.FusedAttention;
import com.loratool.model.nn.Linear;
import com.loratool.model.nn.Module;
import com.loratool.model.nn.Scalars;

/**
 * DINOv2 attention: fused {@code qkv}, softmax(q k^T * head_dim^-0.5) v, {@code proj}. The middle
 * runs in libtorch's scaled_dot_product_attention ({@link FusedAttention}); the op-by-op form below
 * is kept for {@code -Dlora.attention=explicit} (A/B measurements).
 */
public final class Attention extends Module {
    private final Linear qkv;
    private final Linear proj;
    private final int heads;
    private final float scale;

    Attention(NDManager manager, int dim, int heads) {
        this.heads = heads;
        this.scale = (float) Math.pow(dim / heads, -0.5);
        qkv = addChild("qkv", new Linear(manager, dim, 3 * dim));
        proj = addChild("proj", new Linear(manager, dim, dim));
    }

    public Linear qkv() {
        return qkv;
    }

    public Linear proj() {
        return proj;
    }

    /** x (B,N,D) → (B,N,D). */
    NDArray forward(NDArray x) {
        if (FusedAttention.ENABLED) {
            return proj.forward(FusedAttention.forward(qkv.forward(x), heads));
        }
        long b = x.getShape().get(0);
        long n = x.getShape().get(1);
        long d = x.getShape().get(2);
        NDArray t = qkv.forward(x).reshape(b, n, 3, heads, d / heads).transpose(2, 0, 3, 1, 4); // (3,B,h,N,hd)
        NDArray q = Scalars.mul(t.get(0), scale);
        NDArray k = t.get(1);
        NDArray v = t.get(2);
        NDArray attn = q.matMul(k.transpose(0, 1, 3, 2)).softmax(-1); // (B,h,N,N)
        NDArray o = attn.matMul(v).transpose(0, 2, 1, 3).reshape(b, n, d);
        return proj.forward(o);
    }
}
