package com.loratool.config;

/**
 * The {@code model:} section: which Depth Anything V2 to fine-tune.
 *
 * <p>{@code weights} is the official checkpoint (.pth or .safetensors). The architecture comes
 * from {@code preset} (vits|vitb|vitl|vitg) or {@code config} (a model.yaml like the fixtures'),
 * or, when both are empty, is inferred from the weights' tensor shapes.
 */
public class ModelSection {
    /** Path of the base weights (.pth / .safetensors); relative paths resolve from the working directory. */
    public String weights;
    /** Architecture preset: vits, vitb, vitl or vitg. */
    public String preset;
    /** Path of a model.yaml describing the architecture (alternative to preset). */
    public String config;

    /** {@code weights: random}: seeded random initialisation from {@code train.seed} (smoke tests, benchmarks). */
    public static final String RANDOM = "random";

    public boolean randomWeights() {
        return RANDOM.equals(weights);
    }
}
