package com.loratool.config;

import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * The {@code model:} section: which Depth Anything V2 to fine-tune. Change a copy with
 * {@link Section#with}.
 *
 * <p>{@code weights} is the official checkpoint (.pth or .safetensors). The architecture comes
 * from {@code preset} (vits|vitb|vitl|vitg) or {@code config} (a model.yaml like the fixtures'),
 * or, when both are empty, is inferred from the weights' tensor shapes.
 *
 * @param weights path of the base weights (.pth / .safetensors); relative paths resolve from the
 *     working directory; {@link #RANDOM} for seeded random weights. Required in a run config.
 * @param preset architecture preset: vits, vitb, vitl or vitg (or a metric one).
 * @param config path of a model.yaml describing the architecture (alternative to preset).
 */
public record ModelSection(
        @JsonProperty("weights") String weights,
        @JsonProperty("preset") String preset,
        @JsonProperty("config") String config) implements Section<ModelSection> {
    /** {@code weights: random}: seeded random initialisation from {@code train.seed} (smoke tests, benchmarks). */
    public static final String RANDOM = "random";

    public ModelSection {
        if (preset != null && config != null) {
            throw new ConfigError("model", "give preset or config, not both");
        }
    }

    /** Nothing set. */
    public static ModelSection defaults() {
        return new ModelSection(null, null, null);
    }

    /** A section with these weights and architecture preset (no model.yaml). */
    public static ModelSection of(String weights, String preset) {
        return new ModelSection(weights, preset, null);
    }

    public boolean randomWeights() {
        return RANDOM.equals(weights);
    }
}
