package com.loratool.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Activation;
import com.loratool.model.nn.Conv2d;
import com.loratool.model.nn.Module;

/** DPT residual unit: x + conv2(relu(conv1(relu(x)))), 3x3 convs with bias. */
public final class ResidualConvUnit extends Module {
    private final Conv2d conv1;
    private final Conv2d conv2;

    ResidualConvUnit(NDManager manager, int features) {
        conv1 = addChild("conv1", new Conv2d(manager, features, features, 3, 1, 1, true));
        conv2 = addChild("conv2", new Conv2d(manager, features, features, 3, 1, 1, true));
    }

    NDArray forward(NDArray x) {
        NDArray out = conv1.forward(Activation.relu(x));
        out = conv2.forward(Activation.relu(out));
        return out.add(x);
    }
}
