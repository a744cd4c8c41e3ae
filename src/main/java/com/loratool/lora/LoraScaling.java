package com.loratool.lora;

import com.loratool.config.LoraConfig;

/**
 * The (r, alpha, rslora) of one adapted layer and its scaling, {@code alpha / r}
 * ({@code alpha / sqrt(r)} with rslora) — PEFT's {@code LoraLayer.update_layer}, the one place the
 * scaling is computed. Layers, checkpoints, merges and the PEFT conversion all ask a
 * {@code LoraScaling} for it.
 */
public record LoraScaling(int r, double alpha, boolean rslora) {
    public LoraScaling {
        if (r < 1) {
            throw new IllegalArgumentException("LoRA rank must be >= 1, got " + r);
        }
    }

    /**
     * The (r, alpha) of the layer {@code module} (official name; a qkv slice is
     * {@code <block>.attn.qkv.q}) under {@code cfg}: the config's r and alpha unless its
     * {@code rank_pattern} / {@code alpha_pattern} name the module (PEFT's semantics, see
     * {@link LoraConfig#lookup}).
     */
    public static LoraScaling of(LoraConfig cfg, String module) {
        Integer r = LoraConfig.lookup(cfg.rankPattern(), module);
        Double alpha = LoraConfig.lookup(cfg.alphaPattern(), module);
        return new LoraScaling(r != null ? r : cfg.r(), alpha != null ? alpha : cfg.alpha(), cfg.rslora());
    }

    /** scaling = alpha / r, or alpha / sqrt(r) with rslora. */
    public double value() {
        return alpha / rankDivisor(r);
    }

    /** The same scaling at another rank (alpha adjusted): zero-padding or re-ranking an adapter. */
    public LoraScaling atRank(int rank) {
        return new LoraScaling(rank, value() * rankDivisor(rank), rslora);
    }

    private double rankDivisor(int rank) {
        return rslora ? Math.sqrt(rank) : rank;
    }
}
