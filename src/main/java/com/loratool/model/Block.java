package com.loratool.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import com.loratool.model.nn.LayerNorm;
import com.loratool.model.nn.Module;

/** DINOv2 block: x + ls1(attn(norm1(x))), then x + ls2(mlp(norm2(x))). */
public final class Block extends Module {
    private final LayerNorm norm1;
    private final Attention attn;
    private final LayerScale ls1;
    private final LayerNorm norm2;
    private final FeedForward mlp;
    private final LayerScale ls2;

    Block(NDManager manager, ModelConfig cfg) {
        int d = cfg.embedDim();
        norm1 = addChild("norm1", new LayerNorm(manager, d, ModelConfig.BLOCK_NORM_EPS));
        attn = addChild("attn", new Attention(manager, d, cfg.numHeads()));
        ls1 = addChild("ls1", new LayerScale(manager, d));
        norm2 = addChild("norm2", new LayerNorm(manager, d, ModelConfig.BLOCK_NORM_EPS));
        mlp = cfg.swiglu()
                ? addChild("mlp", new SwiGluMlp(manager, d, cfg.mlpHidden()))
                : addChild("mlp", new Mlp(manager, d, cfg.mlpHidden()));
        ls2 = addChild("ls2", new LayerScale(manager, d));
    }

    public Attention attn() {
        return attn;
    }

    NDArray forward(NDArray x) {
        x = x.add(ls1.forward(attn.forward(norm1.forward(x))));
        return x.add(ls2.forward(mlp.forward(norm2.forward(x))));
    }
}
