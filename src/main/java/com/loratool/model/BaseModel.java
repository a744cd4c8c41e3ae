package com.loratool.model;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import com.loratool.LoraException;
import com.loratool.config.ModelSection;
import com.loratool.io.HostTensor;
import com.loratool.model.nn.Parameter;
import com.loratool.model.weights.StateDicts;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The one loader of a run's base model, used by training ({@code lora train}, benchmark) and by
 * the checkpoint commands (eval, export, predict --checkpoint): the weights file, or seeded random
 * weights ({@code model.weights: random}, from {@code train.seed}); the architecture from an
 * explicit choice (--model-config, a checkpoint's recorded {@code model_config}), else the run's
 * {@code model.preset}, else its {@code model.config}, else inferred from the weights' shapes.
 */
public final class BaseModel {
    private BaseModel() {}

    /**
     * Host weights and architecture of a base model.
     *
     * @param file the weights file, null for random weights
     */
    public record Weights(LinkedHashMap<String, HostTensor> stateDict, ModelConfig config, Path file) {
        public boolean random() {
            return file == null;
        }
    }

    /**
     * The architecture: {@code explicit} if given, else {@code model.preset}, else
     * {@code model.config}, else inferred from {@code stateDict} (null: not known).
     */
    public static ModelConfig architecture(ModelConfig explicit, ModelSection model, Map<String, HostTensor> stateDict) {
        if (explicit != null) {
            return explicit;
        }
        if (model != null && model.preset != null) {
            return ModelConfig.preset(model.preset);
        }
        if (model != null && model.config != null) {
            return ModelConfig.fromYaml(Path.of(model.config));
        }
        return stateDict == null ? null : ModelConfig.inferFrom(stateDict);
    }

    /**
     * Reads the base weights on the host. {@code file} null: seeded random weights for the
     * architecture (then {@code explicit} or the section must name it). {@code where} prefixes errors
     * (e.g. "configs/x.yaml: ").
     */
    public static Weights load(ModelSection model, Path file, long seed, ModelConfig explicit, String where) {
        if (file == null) {
            ModelConfig mc = architecture(explicit, model, null);
            if (mc == null) {
                throw new LoraException(where + "model.weights: random needs model.preset or model.config (the "
                        + "architecture)");
            }
            return new Weights(random(mc, seed), mc, null);
        }
        if (!Files.exists(file)) {
            throw LoraException.file(file, "base weights not found (model.weights" + (where.isEmpty() ? "" : " in "
                    + where.replaceAll(": $", "")) + "; configs/README.md says where to get them)");
        }
        LinkedHashMap<String, HostTensor> sd = new LinkedHashMap<>(StateDicts.read(file));
        return new Weights(sd, architecture(explicit, model, sd), file);
    }

    /** {@link #load} with the section's own weights path ({@code random} or a file). */
    public static Weights load(ModelSection model, long seed, String where) {
        return load(model, model.randomWeights() ? null : Path.of(model.weights), seed, null, where);
    }

    /** Seeded random weights for every parameter of the architecture ({@link RandomWeights}). */
    public static LinkedHashMap<String, HostTensor> random(ModelConfig mc, long seed) {
        Map<String, long[]> shapes = new LinkedHashMap<>();
        try (NDManager m = NDManager.newBaseManager(Device.cpu())) {
            for (Map.Entry<String, Parameter> e : new DepthAnythingV2(mc, m).namedParameters().entrySet()) {
                shapes.put(e.getKey(), e.getValue().shape().getShape());
            }
        }
        return RandomWeights.of(shapes, seed);
    }

    /** The model in {@code manager} with the weights loaded and every parameter frozen. */
    public static DepthAnythingV2 frozen(Weights w, NDManager manager) {
        DepthAnythingV2 model = new DepthAnythingV2(w.config(), manager);
        model.load(w.stateDict());
        for (Parameter p : model.namedParameters().values()) {
            p.setRequiresGradient(false);
        }
        return model;
    }
}
