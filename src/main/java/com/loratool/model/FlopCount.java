package com.loratool.model;

/**
 * Floating-point operations of Depth Anything V2 at a network size, from the architecture alone:
 * the matrix products and convolutions (2 FLOP per multiply-add), which are all but a few percent
 * of the work; element-wise ops, softmax, normalisation and interpolation are not counted. The
 * benchmark divides these by measured times to report achieved GFLOP/s (docs/benchmark.md).
 *
 * <p>Per image at h x w with patch size p: patches ph = h/p, pw = w/p, g = ph·pw, tokens N = g + 1,
 * D embed_dim, M = mlp_ratio·D (SwiGLU: 2M in, M out), L blocks, F head features, C0..C3 the
 * head's out_channels:
 * <ul>
 *   <li>patch embedding: 2·g·3p²·D;
 *   <li>each block: qkv 6ND², proj 2ND², q k^T and A v 4N²D, MLP 4NDM (SwiGLU 6NDM);
 *   <li>head: the 1x1 projections 2·g·D·Ci; the resize layers (transposed 4x4 and 2x2
 *       convolutions, stride-2 3x3 convolution); layerN_rn 3x3 Ci→F at 4x, 2x, 1x, ½x the patch
 *       grid; the fusion blocks' residual units (two 3x3 F→F each) and 1x1 out_conv after the 2x
 *       upsampling; output_conv1 (3x3 F→F/2 at 8x the grid) and output_conv2 (3x3 F/2→32 and
 *       1x1 32→1 at h x w).
 * </ul>
 * A LoRA training step with a frozen base costs the forward plus a backward that computes input
 * gradients only (frozen weights get none): as much again as the forward, except that the
 * patch embedding needs no backward (its input is the image) and both operands of q k^T and
 * A v are activations (their backward is twice their forward). The adapters themselves (rank r)
 * are below 1 % and not counted.
 */
public final class FlopCount {
    private FlopCount() {}

    /** FLOPs of one forward pass (inference) of one image at network size h x w. */
    public static double forward(ModelConfig c, long h, long w) {
        return patchEmbed(c, h, w) + c.depth() * block(c, tokens(c, h, w)) + head(c, h, w);
    }

    /** FLOPs of one LoRA training step (forward + input-gradient backward) of one image at h x w. */
    public static double trainingStep(ModelConfig c, long h, long w) {
        double n = tokens(c, h, w);
        double scores = 4 * n * n * c.embedDim(); // q k^T and A v
        double backward = forward(c, h, w) - patchEmbed(c, h, w) + c.depth() * scores;
        return forward(c, h, w) + backward;
    }

    static long tokens(ModelConfig c, long h, long w) {
        return (h / c.patchSize()) * (w / c.patchSize()) + 1;
    }

    static double patchEmbed(ModelConfig c, long h, long w) {
        double g = (double) (h / c.patchSize()) * (w / c.patchSize());
        return 2 * g * 3.0 * c.patchSize() * c.patchSize() * c.embedDim();
    }

    static double block(ModelConfig c, long tokens) {
        double n = tokens;
        double d = c.embedDim();
        double m = c.mlpHidden();
        double mlp = c.swiglu() ? 6 * n * d * m : 4 * n * d * m;
        return 8 * n * d * d + 4 * n * n * d + mlp;
    }

    /** 2·out_pixels·in·out·k² for a convolution. */
    private static double conv(double pixels, double in, double out, int k) {
        return 2 * pixels * in * out * k * k;
    }

    static double head(ModelConfig c, long h, long w) {
        long ph = h / c.patchSize();
        long pw = w / c.patchSize();
        double g = (double) ph * pw;
        double d = c.embedDim();
        double f = c.features();
        int[] oc = c.outChannels();
        // the four maps' sizes: 4x, 2x, 1x the grid and the stride-2 convolution's ceil(grid/2)
        double[] area = {16 * g, 4 * g, g, (double) ((ph + 1) / 2) * ((pw + 1) / 2)};
        double flops = 0;
        for (int i = 0; i < 4; i++) {
            flops += conv(g, d, oc[i], 1); // projects
            flops += conv(area[i], oc[i], f, 3); // layerN_rn
        }
        flops += conv(area[0], oc[0], oc[0], 1) ; // ConvTranspose 4x4 stride 4: each input pixel → 16 outputs
        flops += conv(area[1], oc[1], oc[1], 1); // ConvTranspose 2x2 stride 2
        flops += conv(area[3], oc[3], oc[3], 3); // 3x3 stride 2
        // refinenet4..1: input area[3..0]; rcu1 on the skip (not refinenet4), rcu2, out_conv after upsampling
        double[] upsampled = {8 * 8 * g, area[0], area[1], area[2]}; // refinenet1 goes to 2x area[0]
        for (int i = 0; i < 4; i++) {
            int units = i == 3 ? 1 : 2;
            flops += units * 2 * conv(area[i], f, f, 3);
            flops += conv(upsampled[i], f, f, 1);
        }
        flops += conv(64 * g, f, f / 2, 3); // output_conv1 at 8x the grid
        flops += conv((double) h * w, f / 2, 32, 3) + conv((double) h * w, 32, 1, 1); // output_conv2
        return flops;
    }
}
