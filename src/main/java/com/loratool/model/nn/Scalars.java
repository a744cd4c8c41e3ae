package com.loratool.model.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;

/**
 * Arithmetic with a constant on arrays that take part in autograd.
 *
 * <p>DJL's {@code x.mul(Number)} (likewise {@code div}, {@code maximum}, {@code minimum}, and
 * {@code Activation.swish}, which multiplies by beta that way) wraps the constant in a 0-d tensor whose
 * storage is a Java direct buffer (torch {@code from_blob}), multiplies, then closes that tensor.
 * Autograd keeps the constant for the backward pass, but nothing on the Java side keeps its
 * buffer alive any more: once the garbage collector frees it, backward reads freed memory, and
 * gradients turn NaN now and then while the loss stays finite. Here the constant is made by
 * libtorch itself ({@code torch.full}), so the autograd graph owns it.
 */
public final class Scalars {
    private Scalars() {}

    /** {@code x * v}, safe under autograd. */
    public static NDArray mul(NDArray x, double v) {
        try (NDArray s = constant(x, v)) {
            return x.mul(s);
        }
    }

    /** {@code x / v}, safe under autograd. */
    public static NDArray div(NDArray x, double v) {
        try (NDArray s = constant(x, v)) {
            return x.div(s);
        }
    }

    /** {@code max(x, v)} elementwise, safe under autograd. */
    public static NDArray maximum(NDArray x, double v) {
        try (NDArray s = constant(x, v)) {
            return x.maximum(s);
        }
    }

    private static NDArray constant(NDArray like, double v) {
        return like.getManager().full(new Shape(), (float) v, like.getDataType());
    }
}
