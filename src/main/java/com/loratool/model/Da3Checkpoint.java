package com.loratool.model;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import com.loratool.LoraException;
import com.loratool.io.HostTensor;
import com.loratool.io.Json;
import com.loratool.io.Printable;
import com.loratool.model.ModelConfig.Family;
import com.loratool.model.weights.StateDicts;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * A Depth Anything 3 monocular checkpoint (DA3MONO, DA3METRIC) and its architecture: a Hugging
 * Face {@code model.safetensors} or its folder, or a {@code .pth} (a {@code module.} prefix is
 * removed; fp16/bf16 widened; {@link StateDicts#readDa3}).
 *
 * <p>The architecture, in this order: the one given; a {@code model.yaml} in the checkpoint's
 * folder (the fixtures' form: {@code head_activation: exp}, or {@code family: da3mono|da3metric});
 * the preset {@code config.json}'s {@code model_name} names ({@code da3mono-large},
 * {@code da3metric-large}); else the tensor shapes, which must be ViT-L's (a smaller model's head
 * count and layer indices cannot be read from shapes). The shapes cannot tell DA3MONO from
 * DA3METRIC: without config.json or model.yaml it is da3mono. The {@code model_name} of a
 * {@code config.json} in the folder must be a monocular one; the multi-view series
 * ({@code da3-small/base/large/giant}) and the nested models ({@code da3nested-*}) are refused.
 * Loading is strict ({@link #instantiate}).
 */
public record Da3Checkpoint(Path file, ModelConfig config, LinkedHashMap<String, HostTensor> stateDict) {
    /** The weights file of a Hugging Face folder. */
    public static final String WEIGHTS = "model.safetensors";
    /** The Hugging Face config file beside the weights. */
    public static final String CONFIG_JSON = "config.json";
    /** The architecture file beside the weights. */
    public static final String MODEL_YAML = "model.yaml";

    /** Reads {@code weights}, the architecture from the files beside it or the shapes. */
    public static Da3Checkpoint read(Path weights) {
        return read(weights, null);
    }

    /**
     * Reads {@code weights} with the architecture {@code given} (null: from the files beside it or
     * the shapes). A V2 checkpoint or a V2 architecture is one line naming the file.
     */
    public static Da3Checkpoint read(Path weights, ModelConfig given) {
        return of(weights, StateDicts.readDa3(weights), given);
    }

    /**
     * {@link #read} with the tensors already read ({@link StateDicts#readDa3} or
     * {@link StateDicts#readAny}'s Depth Anything 3 result): the architecture from {@code given},
     * the files beside {@code weights} or the shapes, with the same refusals.
     */
    public static Da3Checkpoint of(Path weights, LinkedHashMap<String, HostTensor> sd, ModelConfig given) {
        Path dir = Files.isDirectory(weights) ? weights : weights.toAbsolutePath().getParent();
        Optional<Family> named = Optional.empty();
        Optional<String> name = Optional.empty();
        Path json = dir == null ? null : dir.resolve(CONFIG_JSON);
        if (json != null && Files.isRegularFile(json)) {
            JsonNode root = Json.readFinite(json);
            if (root != null && root.has("model_name")) {
                name = Optional.of(root.get("model_name").asText());
                named = Optional.of(familyOf(name.get(), json));
            }
        }
        ModelConfig cfg;
        Path yaml = dir == null ? null : dir.resolve(MODEL_YAML);
        if (given != null) {
            if (!given.isDa3()) {
                throw LoraException.file(weights, "Depth Anything 3 weights given with a Depth Anything V2 architecture ("
                        + given.describe() + ")");
            }
            cfg = given;
        } else if (yaml != null && Files.isRegularFile(yaml)) {
            cfg = ModelConfig.fromYaml(yaml);
            if (!cfg.isDa3()) {
                throw LoraException.file(yaml, "describes a Depth Anything V2 model, the weights beside it are Depth "
                        + "Anything 3 (head_activation: exp, or family: da3mono|da3metric)");
            }
        } else if (name.isPresent() && ModelConfig.isPreset(name.get())) {
            cfg = ModelConfig.preset(name.get());
        } else {
            cfg = inferFrom(sd, named.orElse(Family.DA3MONO), weights);
        }
        if (named.isPresent() && named.get() != cfg.family()) {
            throw LoraException.file(json, "model_name '" + Printable.of(name.get()) + "' is " + named.get().yamlName()
                    + ", the architecture is " + cfg.family().yamlName());
        }
        return new Da3Checkpoint(weights, cfg, sd);
    }

    /** The family a config.json's {@code model_name} stands for; the unsupported ones are refused. */
    static Family familyOf(String modelName, Path json) {
        String n = modelName.toLowerCase();
        if (n.startsWith("da3mono-")) {
            return Family.DA3MONO;
        }
        if (n.startsWith("da3metric-")) {
            return Family.DA3METRIC;
        }
        String quoted = "model_name '" + Printable.of(modelName) + "' ";
        if (n.startsWith("da3nested")) {
            throw LoraException.file(json, quoted + "is a nested Depth Anything 3 model: not supported (only the "
                    + "monocular da3mono-large and da3metric-large)");
        }
        if (n.startsWith("da3-")) {
            throw LoraException.file(json, quoted + "is of the multi-view Depth Anything 3 series: not supported (only "
                    + "the monocular da3mono-large and da3metric-large)");
        }
        throw LoraException.file(json, quoted + "is no Depth Anything 3 monocular model (expected da3mono-large or "
                + "da3metric-large)");
    }

    /** The ViT-L preset of {@code family} when the shapes are its, else a refusal naming the file. */
    static ModelConfig inferFrom(Map<String, HostTensor> sd, Family family, Path file) {
        String b = "model.backbone.pretrained.";
        StateDictShapes shapes = StateDictShapes.read(sd, b, "model.head.");
        if (shapes == null) {
            throw LoraException.file(file, "not a Depth Anything 3 checkpoint (no " + b + "cls_token / pos_embed / "
                    + "patch_embed.proj.weight)");
        }
        ModelConfig c = ModelConfig.preset("vitl").da3(family);
        if (shapes.matches(c)) {
            return c;
        }
        throw LoraException.file(file, "Depth Anything 3 architecture not recognised (" + shapes.describe() + " are not "
                + "da3mono-large's); give its architecture as a model.yaml beside it");
    }

    /** The model with these weights, strictly loaded (every key used, none missing); errors name the file. */
    public DepthAnythingV2 instantiate(NDManager manager) {
        DepthAnythingV2 model = new DepthAnythingV2(config, manager);
        try {
            model.load(stateDict);
        } catch (LoraException e) {
            throw LoraException.file(file, e.getMessage(), e);
        }
        return model;
    }
}
