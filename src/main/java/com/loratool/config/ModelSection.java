package com.loratool.config;

import com.fasterxml.jackson.databind.annotation.JsonDeserialize;
import com.fasterxml.jackson.databind.annotation.JsonPOJOBuilder;

/**
 * The {@code model:} section: which Depth Anything V2 to fine-tune.
 *
 * <p>{@code weights} is the official checkpoint (.pth or .safetensors). The architecture comes
 * from {@code preset} (vits|vitb|vitl|vitg) or {@code config} (a model.yaml like the fixtures'),
 * or, when both are empty, is inferred from the weights' tensor shapes.
 *
 * <p>Immutable: Jackson binds it through {@link Builder}; make one with {@link #of} or change a
 * copy with {@code m.toBuilder()} ... {@code build()} (and {@link RunConfig#withModel}).
 */
@JsonDeserialize(builder = ModelSection.Builder.class)
public final class ModelSection {
    /** {@code weights: random}: seeded random initialisation from {@code train.seed} (smoke tests, benchmarks). */
    public static final String RANDOM = "random";

    /** Path of the base weights (.pth / .safetensors); relative paths resolve from the working directory. */
    public final String weights;
    /** Architecture preset: vits, vitb, vitl or vitg. */
    public final String preset;
    /** Path of a model.yaml describing the architecture (alternative to preset). */
    public final String config;

    /** All defaults (nothing set). */
    public ModelSection() {
        this(new Builder());
    }

    private ModelSection(Builder b) {
        this.weights = b.weights;
        this.preset = b.preset;
        this.config = b.config;
    }

    /** A section with these weights and architecture preset (no model.yaml). */
    public static ModelSection of(String weights, String preset) {
        Builder b = new Builder();
        b.weights = weights;
        b.preset = preset;
        return b.build();
    }

    /** A builder holding this section's values. */
    public Builder toBuilder() {
        Builder b = new Builder();
        b.weights = weights;
        b.preset = preset;
        b.config = config;
        return b;
    }

    public boolean randomWeights() {
        return RANDOM.equals(weights);
    }

    /**
     * The mutable twin of {@link ModelSection} (same fields; the YAML binder fills it key by key,
     * unknown keys are errors).
     */
    @JsonPOJOBuilder(withPrefix = "")
    public static final class Builder {
        public String weights;
        public String preset;
        public String config;

        public ModelSection build() {
            return new ModelSection(this);
        }
    }
}
