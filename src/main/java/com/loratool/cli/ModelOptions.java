package com.loratool.cli;

import com.loratool.LoraException;
import com.loratool.checkpoint.ModelResolver;
import com.loratool.checkpoint.ModelSource;
import com.loratool.checkpoint.ResolvedModel;
import java.nio.file.Path;
import java.util.Map;
import picocli.CommandLine.Option;

/**
 * The model-source options every command that runs or exports a model shares ({@code @Mixin
 * ModelOptions model;}): {@code --weights}, {@code --checkpoint}, {@code --model-config}. They make one
 * {@link ModelSource}; {@link ModelResolver} does the rest.
 */
public final class ModelOptions {
    @Option(names = "--weights", paramLabel = "FILE",
            description = "Base weights: official .pth, .safetensors (official or Hugging Face names) or a Hugging Face "
                    + "folder. With --checkpoint: the adapters' base weights, if not at the recorded path (checked "
                    + "against the recorded SHA-256).")
    Path weights;

    @Option(names = "--checkpoint", paramLabel = "DIR",
            description = "A LoRA checkpoint folder (runs/<run>/best, or lora import's output): its adapters on their "
                    + "base weights (recorded path and SHA-256).")
    Path checkpoint;

    @Option(names = "--model-config", paramLabel = "FILE",
            description = "Architecture YAML (model: embed_dim, depth, num_heads, ...) or a preset name "
                    + "(vits-metric-indoor, ...). Default: the checkpoint's record, the run's model.preset/model.config, "
                    + "else from the weights (config.json, shapes, official metric file names).")
    Path modelConfig;

    /** {@code --weights} or {@code --checkpoint} (+ {@code --model-config}); one of the two is needed. */
    public ModelSource source() {
        return ModelSource.of(weights, checkpoint, modelConfig);
    }

    /** The checkpoint source; {@code command} names who needs one in the error. */
    public ModelSource.Checkpoint checkpointSource(String command) {
        return new ModelSource.Checkpoint(checkpoint(command), weights, modelConfig);
    }

    /** {@code --checkpoint}, required by {@code command}. */
    public Path checkpoint(String command) {
        if (checkpoint == null) {
            throw new LoraException(command + ": give --checkpoint DIR (e.g. runs/<run>/best)");
        }
        return checkpoint;
    }

    /** {@code --checkpoint}, or null. */
    public Path checkpointOrNull() {
        return checkpoint;
    }

    /**
     * Every file these options make a command read, labelled by option, for {@code io.OutputGuard}:
     * {@link ModelResolver#files} (a checkpoint's base weights and run files too); only
     * {@code --model-config} without a model.
     */
    public Map<String, Path> files() {
        if (!given()) {
            return modelConfig == null ? Map.of() : Map.of("--model-config", modelConfig);
        }
        return ModelResolver.files(source(), checkpoint != null ? "--checkpoint" : "--weights");
    }

    public boolean given() {
        return weights != null || checkpoint != null;
    }

    /** The model for {@code command} (named when it refuses a Depth Anything 3 model). */
    public ResolvedModel resolve(Integer inputSize, String command) {
        return ModelResolver.resolve(source(), ModelResolver.Options.inputSize(inputSize).command(command));
    }

    public Path weights() {
        return weights;
    }

    public Path modelConfig() {
        return modelConfig;
    }

    /** {@code --input-size}, for the commands that predict ({@code @Mixin ModelOptions.InputSize size;}). */
    public static final class InputSize {
        @Option(names = "--input-size", paramLabel = "N",
                description = "Short side of the network input (official keep-aspect rule, multiples of 14, at least 14). "
                        + "Default: with --checkpoint the size rule its run was trained with (data.size / data.scale / "
                        + "data.input_size), else 518.")
        Integer value;

        public Integer value() {
            return value;
        }
    }
}
