package com.loratool.model;

import com.loratool.io.HostTensor;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Seeded random weights for a model's parameters by official name ({@code model.weights: random},
 * used by configs/smoke.yaml so that CI needs no downloaded checkpoint): norm weights and layer
 * scales 1, biases 0, tokens and position embeddings N(0, 0.02), other weights
 * U(-1/sqrt(fan_in), 1/sqrt(fan_in)) like PyTorch's default initialisation.
 */
public final class RandomWeights {
    private RandomWeights() {}

    public static LinkedHashMap<String, HostTensor> of(Map<String, long[]> shapes, long seed) {
        LinkedHashMap<String, HostTensor> sd = new LinkedHashMap<>();
        for (Map.Entry<String, long[]> e : shapes.entrySet()) {
            String name = e.getKey();
            long[] shape = e.getValue();
            int n = (int) HostTensor.numel(shape);
            float[] v = new float[n];
            SplittableRandom rng = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + name.hashCode());
            String leaf = name.substring(name.lastIndexOf('.') + 1);
            boolean norm = name.contains("norm") || name.contains(".bn") || leaf.equals("gamma");
            if (leaf.equals("bias") || leaf.equals("running_mean")) {
                // zeros
            } else if (norm || leaf.equals("running_var")) {
                Arrays.fill(v, 1f);
            } else if (shape.length <= 1 || name.contains("token") || name.contains("pos_embed")) {
                for (int i = 0; i < n; i++) {
                    v[i] = (float) (gaussian(rng) * 0.02);
                }
            } else {
                long fanIn = HostTensor.numel(shape) / shape[0];
                double bound = 1.0 / Math.sqrt(fanIn);
                for (int i = 0; i < n; i++) {
                    v[i] = (float) ((rng.nextDouble() * 2 - 1) * bound);
                }
            }
            sd.put(name, new HostTensor(shape.clone(), v));
        }
        return sd;
    }

    private static double gaussian(SplittableRandom rng) {
        double u1 = 1 - rng.nextDouble();
        double u2 = rng.nextDouble();
        return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
    }
}
