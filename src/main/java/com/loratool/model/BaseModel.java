package com.loratool.model;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import com.loratool.LoraException;
import com.loratool.config.ModelSection;
import com.loratool.config.RunConfig;
import com.loratool.io.HostTensor;
import com.loratool.model.nn.Parameter;
import com.loratool.model.weights.StateDicts;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * The one loader of a run's base model, used by training ({@code lora train}, benchmark) and by
 * the checkpoint commands (eval, export, predict --checkpoint): the weights file, or seeded random
 * weights ({@code model.weights: random}, from {@code train.seed}); the architecture from an
 * explicit choice (--model-config, a checkpoint's recorded {@code model_config}), else the run's
 * {@code model.preset}, else its {@code model.config}, else from the weights themselves
 * ({@link ModelConfig#forWeights}: a Hugging Face config.json, the shapes, the official metric
 * file names), so a metric .pth or HF folder given as {@code model.weights} loads as metric.
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

    /** {@link #architecture(ModelConfig, ModelSection, Map, Path)} without a weights file (shapes only). */
    public static ModelConfig architecture(ModelConfig explicit, ModelSection model, Map<String, HostTensor> stateDict) {
        return architecture(explicit, model, stateDict, null);
    }

    /**
     * The architecture: {@code explicit} if given, else {@code model.preset}, else
     * {@code model.config}, else that of the weights {@code file} with state dict {@code stateDict}
     * ({@link ModelConfig#forWeights}; null: not known).
     */
    public static ModelConfig architecture(ModelConfig explicit, ModelSection model, Map<String, HostTensor> stateDict,
            Path file) {
        if (explicit != null) {
            return explicit;
        }
        if (model != null && model.preset() != null) {
            return ModelConfig.preset(model.preset());
        }
        if (model != null && model.config() != null) {
            return ModelConfig.fromYaml(Path.of(model.config()));
        }
        return stateDict == null ? null : ModelConfig.forWeights(file, stateDict);
    }

    /**
     * The architecture as far as it is known without reading any tensor: the preset, the
     * model.yaml, the Hugging Face config.json of the weights, or the metric preset an official
     * metric file name stands for; null when only the tensor shapes can tell (then the model is a
     * relative one: shapes cannot show a metric head). For early checks before loading.
     */
    public static ModelConfig declared(ModelSection model) {
        ModelConfig c = architecture(null, model, null);
        if (c != null || model.weights() == null || model.randomWeights()) {
            return c;
        }
        Path file = Path.of(model.weights());
        if (Files.exists(file)) {
            Optional<Path> hf = HfConfig.besides(file);
            if (hf.isPresent()) {
                return HfConfig.read(hf.get());
            }
        }
        return ModelConfig.officialMetricPreset(file).map(ModelConfig::preset).orElse(null);
    }

    /** The key that decides the model's architecture, for messages: "model.preset vits-metric-indoor". */
    public static String decidingKey(ModelSection model) {
        if (model.preset() != null) {
            return "model.preset " + model.preset();
        }
        if (model.config() != null) {
            return "model.config " + model.config();
        }
        return "model.weights " + model.weights();
    }

    /** Refuses a train.loss of the other kind than the model {@code mc} (RunConfig#checkLossFor); null mc: relative. */
    public static void checkLoss(RunConfig cfg, ModelConfig mc) {
        cfg.checkLossFor(mc != null && mc.isMetric(), decidingKey(cfg.model));
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
        return new Weights(sd, architecture(explicit, model, sd, file), file);
    }

    /** {@link #load} with the section's own weights path ({@code random} or a file). */
    public static Weights load(ModelSection model, long seed, String where) {
        return load(model, model.randomWeights() ? null : Path.of(model.weights()), seed, null, where);
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
