package com.loratool.model;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import com.loratool.model.nn.Parameter;
import java.util.function.Function;
import java.util.Map;

/**
 * One forward and backward pass of a checkpoint on one device, for comparing devices
 * ({@code lora doctor}): the depth output, the gradient of the input and the gradient of one
 * attention qkv weight (where LoRA adapters sit) under the loss {@code sum(depth^2)}.
 */
public final class DeviceParity {
    private DeviceParity() { }

    /** What one pass produced, copied to the host. */
    public record Pass(Device device, float[] depth, float[] inputGrad, String paramName, float[] paramGrad,
                       double seconds) { }

    /** Runs the pass: the model {@code build} makes in a manager on {@code device}, input (B,3,H,W) values. */
    public static Pass run(Function<NDManager, DepthAnythingV2> build, float[] input, Shape shape, Device device) {
        long t0 = System.nanoTime();
        try (NDManager base = NDManager.newBaseManager(device)) {
            DepthAnythingV2 model = build.apply(base);
            Map<String, Parameter> params = model.namedParameters();
            String name = params.keySet().stream().filter(k -> k.endsWith("attn.qkv.weight"))
                    .reduce((a, b) -> b).orElse(params.keySet().iterator().next());
            Parameter p = params.get(name);
            p.setRequiresGradient(true);
            try (NDManager step = base.newSubManager()) {
                NDArray x = step.create(input, shape);
                x.setRequiresGradient(true);
                float[] depth;
                try (GradientCollector gc = Engine.getEngine("PyTorch").newGradientCollector()) {
                    NDArray y = model.forward(x);
                    depth = y.toFloatArray();
                    gc.backward(y.mul(y).sum());
                }
                float[] gx = x.getGradient().toFloatArray();
                float[] gp = p.array().getGradient().toFloatArray();
                return new Pass(device, depth, gx, name, gp, (System.nanoTime() - t0) / 1e9);
            }
        }
    }

    /** ||got - want|| / ||want|| (relative L2); NaN for different lengths or a zero reference. */
    public static double relativeError(float[] got, float[] want) {
        if (got.length != want.length) {
            return Double.NaN;
        }
        double num = 0;
        double den = 0;
        for (int i = 0; i < got.length; i++) {
            double d = (double) got[i] - want[i];
            num += d * d;
            den += (double) want[i] * want[i];
        }
        return den == 0 ? (num == 0 ? 0 : Double.NaN) : Math.sqrt(num / den);
    }
}
