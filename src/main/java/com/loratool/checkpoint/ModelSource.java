package com.loratool.checkpoint;

import com.loratool.LoraException;
import com.loratool.config.RunConfig;
import java.nio.file.Path;

/**
 * Where a model comes from, as a user names it; {@link ModelResolver} turns any of these into one
 * {@link ResolvedModel}. Every command that runs a model starts here.
 */
public sealed interface ModelSource {
    /**
     * Base weights: an official {@code .pth}, a {@code .safetensors} (official or Hugging Face
     * names) or a Hugging Face folder.
     *
     * @param modelConfig architecture YAML or preset name; null: from the weights (config.json,
     *     shapes, the official metric file names)
     */
    record Weights(Path file, Path modelConfig) implements ModelSource {}

    /**
     * A LoRA checkpoint folder ({@code runs/<run>/best}, {@code lora import}'s output): its adapters on
     * their verified base weights.
     *
     * @param weightsOverride base weights if not at the recorded path (still checked by SHA-256); may be null
     * @param modelConfig architecture YAML if neither the checkpoint nor its run records it; may be null
     */
    record Checkpoint(Path dir, Path weightsOverride, Path modelConfig) implements ModelSource {}

    /** The base model a run description names ({@code model:} section, {@code train.seed} for random weights). */
    record Run(RunConfig run) implements ModelSource {}

    /** The command line's {@code --weights FILE} / {@code --checkpoint DIR} (+ {@code --model-config}). */
    static ModelSource of(Path weights, Path checkpoint, Path modelConfig) {
        if (checkpoint != null) {
            return new Checkpoint(checkpoint, weights, modelConfig);
        }
        if (weights == null) {
            throw new LoraException("give --weights FILE or --checkpoint DIR");
        }
        return new Weights(weights, modelConfig);
    }
}
