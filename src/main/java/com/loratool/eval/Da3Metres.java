package com.loratool.eval;

import com.loratool.data.CameraIntrinsics;
import com.loratool.data.NetworkInput;
import com.loratool.model.Da3Outputs;

/**
 * A DA3METRIC model under evaluation, in metres: {@code focal x output / 300} ({@link Da3Outputs#metres}),
 * the focal that of {@code camera} (the evaluated images' camera, at their own size) resized to each
 * sample's network input ({@link Da3Outputs#focalAt}), as the run's loss and validation take it. The
 * output resized to the image's size keeps its values, so the focal is the network input's.
 */
public record Da3Metres(DepthModel model, CameraIntrinsics camera) implements DepthModel {
    public Da3Metres {
        if (camera == null) {
            throw new IllegalArgumentException("a DA3METRIC evaluation needs the camera's intrinsics");
        }
    }

    @Override
    public float[] predict(EvalSample sample) {
        NetworkInput in = sample.input();
        if (in == null) {
            throw new IllegalStateException(sample.name() + ": a DA3METRIC evaluation needs the network input's size");
        }
        return Da3Outputs.metres(model.predict(sample), Da3Outputs.focalAt(camera, in.h(), in.w()));
    }
}
