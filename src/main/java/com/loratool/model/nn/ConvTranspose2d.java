package com.loratool.model.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;

/**
 * {@code torch.nn.ConvTranspose2d} for the case kernel == stride, padding 0 (what the DPT head
 * uses; DJL has no transposed convolution). Without overlap every input pixel writes its own
 * k x k output block, so the layer is one matmul plus a reshape: weight (in,out,k,k), bias (out).
 */
public final class ConvTranspose2d extends Module {
    private final Parameter weight;
    private final Parameter bias;
    private final int k;

    public ConvTranspose2d(NDManager manager, int in, int out, int kernelAndStride) {
        this.k = kernelAndStride;
        weight = addParameter(manager, "weight", in, out, k, k);
        bias = addParameter(manager, "bias", out);
    }

    /** x (B,in,H,W) → (B,out,H*k,W*k). */
    public NDArray forward(NDArray x) {
        return forward(x, weight.array(), bias.array(), k);
    }

    /**
     * The layer as a function of its weight (in,out,k,k) and bias (out), kernel == stride {@code k}:
     * what {@link #forward(NDArray)} computes; the kernel certificate checks it with these arrays.
     */
    public static NDArray forward(NDArray x, NDArray weight, NDArray bias, int k) {
        long b = x.getShape().get(0);
        long h = x.getShape().get(2);
        long w = x.getShape().get(3);
        long in = weight.getShape().get(0);
        long out = weight.getShape().get(1);
        // (in,out,k,k) → (in,k,k,out) → (in, k*k*out); a per-call view, owned by the step's manager
        NDArray wt = weight.transpose(0, 2, 3, 1);
        wt.attach(x.getManager());
        NDArray wm = wt.reshape(in, (long) k * k * out);
        return x.transpose(0, 2, 3, 1).matMul(wm) // (B,H,W,k*k*out)
                .reshape(b, h, w, k, k, out)
                .add(bias) // broadcast over the last axis
                .transpose(0, 5, 1, 3, 2, 4) // (B,out,H,k,W,k)
                .reshape(b, out, h * k, w * k);
    }
}
