package com.loratool.model;

import com.loratool.model.nn.FusedAttention;

/**
 * Bytes a forward (inference) or a LoRA training step of Depth Anything V2 needs at a network
 * size, from the architecture alone, so that an impossible request is refused before anything
 * is allocated (io.MemoryBudget). fp32 throughout; an estimate of the largest live set, not an
 * exact count; documented in docs/model.md.
 *
 * <p>With p the patch size, N = (h/p)(w/p) + 1 tokens, D embed_dim, H heads, M = mlp_ratio·D,
 * L blocks, F head features, B batch, all ×4 bytes:
 * <ul>
 *   <li>encoder block, inference: the residual stream and LayerNorm (2ND), qkv (3ND), scores and
 *       softmax (2HN² with {@code -Dlora.attention=explicit}; with the default fused attention
 *       2H·N·min(N, 512), its blocks of keys), attention output and projection (2ND), fc1 and GELU (2NM); the four
 *       layers the head reads stay alive (4ND);
 *   <li>head: the four reassembled maps, F channels at 4x, 2x, 1x, ½x the patch grid, fused
 *       upward to 8x (≈ 2F·64·g) and the output convolutions at h×w (F/2 + 32 + 2 channels);
 *   <li>training keeps every block's activations for the backward (L × the block term) and the
 *       head's (×3), plus as much again for gradients in flight (×1.5 overall);
 *   <li>and for every trained value T (the adapters and the fully trained {@code lora.train_modules}
 *       parameters), {@link #BYTES_PER_TRAINED_VALUE}: Adam's two moments, the gradient and its
 *       gathered flat copy, and the step's temporaries the size of all trained values, alive until
 *       the step's manager closes (the clip's square 1, Adam's update 9, L2 weight decay 3, learning-rate
 *       multipliers 1): 18 arrays, 72·T bytes at most.
 * </ul>
 * Plus the input (3hw) and, for images, the decoded image and its float64 resize (3·8hw).
 */
public final class MemoryEstimate {
    private static final long F32 = 4;

    private MemoryEstimate() {}

    /** Keys per block of libtorch's fused CPU attention (it never holds the N x N scores). */
    static final int FUSED_KEY_BLOCK = 512;

    /** Live bytes of one encoder block's forward for one image, with the attention this build runs. */
    static double blockBytes(ModelConfig c, long tokens) {
        return blockBytes(c, tokens, FusedAttention.ENABLED);
    }

    /**
     * {@code fused}: libtorch's scaled_dot_product_attention keeps no N x N score matrix, only
     * blocks of {@link #FUSED_KEY_BLOCK} keys (an upper bound on its work buffers) and the
     * softmax's log-sum-exp for the backward; the explicit path keeps the scores and the softmax.
     */
    static double blockBytes(ModelConfig c, long tokens, boolean fused) {
        double d = c.embedDim();
        double m = c.mlpRatio() * d;
        double n = tokens;
        double scores = fused ? 2.0 * c.numHeads() * n * Math.min(n, FUSED_KEY_BLOCK) : 2.0 * c.numHeads() * n * n;
        return F32 * (7 * n * d + scores + 2 * n * m);
    }

    static double headBytes(ModelConfig c, long h, long w) {
        double grid = (double) (h / c.patchSize()) * (w / c.patchSize());
        double f = c.features();
        return F32 * (2 * f * 64 * grid + (f / 2 + 34) * (double) h * w);
    }

    static long tokens(ModelConfig c, long h, long w) {
        return (h / c.patchSize()) * (w / c.patchSize()) + 1;
    }

    /** Inference of {@code batch} images at network size h x w. */
    public static long inference(ModelConfig c, long h, long w, int batch) {
        return inference(c, h, w, batch, FusedAttention.ENABLED);
    }

    /**
     * Inference with the attention given: {@code fusedAttention=false} for an engine that computes
     * softmax(QK^T)V as written, holding the N x N scores (ONNX Runtime running an exported graph).
     */
    public static long inference(ModelConfig c, long h, long w, int batch, boolean fusedAttention) {
        long n = tokens(c, h, w);
        double perImage = blockBytes(c, n, fusedAttention) + F32 * 4.0 * n * c.embedDim() + headBytes(c, h, w)
                + F32 * 3.0 * h * w;
        return saturate(perImage * batch);
    }

    /** Arrays the size of all trained values alive at the end of a step (see the class comment). */
    static final int TRAINED_VALUE_ARRAYS = 2 + 2 + 14;
    /** Optimiser bytes per trained value: {@link #TRAINED_VALUE_ARRAYS} fp32 arrays. */
    public static final long BYTES_PER_TRAINED_VALUE = TRAINED_VALUE_ARRAYS * F32;

    /** The activations of one LoRA training step with a frozen base, {@code batch} images at h x w. */
    public static long training(ModelConfig c, long h, long w, int batch) {
        long n = tokens(c, h, w);
        double perImage = c.depth() * blockBytes(c, n) + 3 * headBytes(c, h, w) + F32 * 4.0 * h * w;
        return saturate(1.5 * perImage * batch);
    }

    /** One training step that trains {@code trainedValues} values (adapters and fully trained modules). */
    public static long training(ModelConfig c, long h, long w, int batch, long trainedValues) {
        return saturate((double) training(c, h, w, batch) + optimizer(trainedValues));
    }

    /** The optimiser's arrays for {@code trainedValues} trained values (moments, gradients, step temporaries). */
    public static long optimizer(long trainedValues) {
        return saturate((double) BYTES_PER_TRAINED_VALUE * trainedValues);
    }

    /** Decoding an 8-bit image of H x W and preparing it at h x w (float64 resize + float32 tensor). */
    public static long imagePreparation(long imageH, long imageW, long h, long w) {
        return saturate(3.0 * imageH * imageW + 8 * 3.0 * imageH * imageW + 8 * 3.0 * h * w + F32 * 3.0 * h * w);
    }

    /**
     * A byte count computed in double, rounded up to a long: negative (or NaN) → 0, past {@code Long.MAX_VALUE} →
     * {@code Long.MAX_VALUE} (Java's double → long conversion saturates there itself). The one rounding of every
     * estimate, the export's ({@code deploy.ExportMemory}) too.
     */
    public static long saturate(double bytes) {
        return (long) Math.ceil(Math.max(0, bytes));
    }
}
