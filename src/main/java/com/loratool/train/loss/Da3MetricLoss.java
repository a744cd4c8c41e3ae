package com.loratool.train.loss;

import ai.djl.ndarray.NDArray;
import com.loratool.data.CameraIntrinsics;
import com.loratool.model.Da3Outputs;
import com.loratool.model.nn.Scalars;

/**
 * The metric loss of a Depth Anything 3 da3metric model: the official metric SiLog
 * ({@link MetricSiLogLoss}, no alignment) on the output in metres, {@code metres = focal x output / 300}
 * ({@link Da3Outputs#metres}), the focal {@code (fx + fy) / 2} of the camera's intrinsics scaled to
 * the network's input (the whole image resized to the batch's W x H: fx x W / width, fy x H / height).
 * There is no max_depth (the DA3 head's {@code exp} has no upper bound): only {@code min_depth} limits
 * the valid pixels.
 */
public final class Da3MetricLoss implements DepthLoss {
    private final MetricSiLogLoss silog;
    private final CameraIntrinsics intrinsics;

    /** {@code minDepth} in metres; {@code intrinsics} of the training images (at their own size). */
    public Da3MetricLoss(double lambda, double minDepth, CameraIntrinsics intrinsics) {
        this.silog = new MetricSiLogLoss(lambda, minDepth, 1e30);
        this.intrinsics = intrinsics;
    }

    /** The focal in pixels at a network input of {@code w} x {@code h}. */
    public double focal(int h, int w) {
        return Da3Outputs.focalAt(intrinsics, h, w);
    }

    @Override
    public boolean metric() {
        return true;
    }

    @Override
    public NDArray compute(NDArray pred, NDArray depth, NDArray mask) {
        long[] s = pred.getShape().getShape();
        double f = focal((int) s[s.length - 2], (int) s[s.length - 1]);
        return silog.compute(Scalars.mul(pred, f / Da3Outputs.CANONICAL_FOCAL), depth, mask);
    }

    @Override
    public float[] metres(float[] output, int h, int w) {
        return Da3Outputs.metres(output, focal(h, w));
    }
}
