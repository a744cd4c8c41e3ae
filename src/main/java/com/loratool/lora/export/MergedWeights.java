package com.loratool.lora.export;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.loratool.LoraException;
import com.loratool.io.AtomicFiles;
import com.loratool.io.Finite;
import com.loratool.io.HostTensor;
import com.loratool.io.Json;
import com.loratool.io.Printable;
import com.loratool.io.Safetensors;
import com.loratool.lora.AdapterSet;
import com.loratool.lora.LoraPair;
import com.loratool.lora.QkvSlice;
import com.loratool.model.Da3Checkpoint;
import com.loratool.model.ModelConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.ToDoubleFunction;

/**
 * Folds adapters into base weights ({@link LoraPair#mergeIntoModule}): {@code W' = W + scaling * B A}
 * (DoRA: {@code m / ||W + s B A|| (W + s B A)}; a qkv slice on its rows) for every adapted module, all
 * other tensors unchanged, official key names kept. The result is a plain Depth Anything V2
 * state dict that the official code loads with {@code strict=True}; for Depth Anything 3 the keys
 * are the official {@code model.backbone.pretrained.*} and {@code model.head.*}, written in the
 * Hugging Face layout by {@link #writeDa3}.
 */
public final class MergedWeights {
    private MergedWeights() {}

    /** Every module with the same {@code scaling}. */
    public static LinkedHashMap<String, HostTensor> merge(Map<String, HostTensor> base, AdapterSet adapters,
                                                          double scaling) {
        return merge(base, adapters, m -> scaling);
    }

    /** Each module with its own scaling, {@code scalingOf.applyAsDouble(module)}. */
    public static LinkedHashMap<String, HostTensor> merge(Map<String, HostTensor> base, AdapterSet adapters,
                                                          ToDoubleFunction<String> scalingOf) {
        LinkedHashMap<String, HostTensor> out = new LinkedHashMap<>(base);
        for (Map.Entry<String, LoraPair> e : adapters.layers().entrySet()) {
            String key = QkvSlice.moduleOf(e.getKey()) + ".weight";
            HostTensor w = out.get(key);
            if (w == null) {
                throw new LoraException("adapter for '" + e.getKey() + "': the base weights have no '" + key + "'");
            }
            try {
                out.put(key, e.getValue().mergeIntoModule(e.getKey(), w, scalingOf.applyAsDouble(e.getKey())));
            } catch (IllegalArgumentException ex) {
                throw new LoraException("adapter for '" + e.getKey() + "': " + ex.getMessage());
            }
        }
        return out;
    }

    /**
     * Depth Anything 3 merged weights in the official Hugging Face layout, into the folder
     * {@code dir}: {@code model.safetensors} (the official key names, unchanged) and
     * {@code config.json} {@code {"model_name": ...}}, so that the official {@code DepthAnything3}
     * loads it strictly and {@link Da3Checkpoint#read} reads it back. {@code modelName} null: the
     * preset's name ({@code da3mono-large}, {@code da3metric-large}). An architecture that is no
     * preset cannot be told from config.json: its {@code model.yaml} ({@code modelYaml}) is copied
     * beside the weights (refused without one). Non-finite values are refused before anything is
     * written.
     */
    public static void writeDa3(Path dir, Map<String, HostTensor> merged, ModelConfig cfg, String modelName,
                                Path modelYaml) {
        if (!cfg.isDa3()) {
            throw new IllegalArgumentException("not a Depth Anything 3 architecture: " + cfg.describe());
        }
        String name = modelName != null ? modelName : cfg.presetName().orElse(null);
        if (name == null) {
            throw LoraException.file(dir, "a Depth Anything 3 architecture that is no preset (" + cfg.describe()
                    + ") needs a model_name for config.json");
        }
        if (!name.toLowerCase().startsWith(cfg.family().yamlName() + "-")) {
            throw LoraException.file(dir, "model_name '" + Printable.of(name) + "' does not name a "
                    + cfg.family().yamlName() + " model");
        }
        if (cfg.presetName().isEmpty() && modelYaml == null) {
            throw LoraException.file(dir, "the architecture is no preset (" + cfg.describe() + "): its model.yaml must go "
                    + "beside the weights");
        }
        merged.forEach((k, t) -> Finite.require(dir, "merged tensor '" + k + "'", t.data()));
        boolean created = !Files.exists(dir);
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw LoraException.file(dir, "cannot create folder: " + e.getMessage(), e);
        }
        // each file is written atomically; a failure on a later one removes the earlier ones (and the
        // folder when this call made it), so that no folder holds weights without their config.json
        List<Path> written = new ArrayList<>();
        try {
            Path weights = dir.resolve(Da3Checkpoint.WEIGHTS);
            Safetensors.write(weights, merged, Map.of("format", "pt"));
            written.add(weights);
            ObjectNode c = Json.JSON.createObjectNode();
            c.put("model_name", name);
            Path config = dir.resolve(Da3Checkpoint.CONFIG_JSON);
            try {
                AtomicFiles.writeString(config, Json.JSON.writeValueAsString(c) + "\n");
            } catch (JsonProcessingException e) {
                throw new IllegalStateException(e);
            }
            written.add(config);
            if (modelYaml != null) {
                byte[] yaml;
                try {
                    yaml = Files.readAllBytes(modelYaml);
                } catch (IOException e) {
                    throw LoraException.file(modelYaml, "cannot copy beside the merged weights: " + e.getMessage(), e);
                }
                AtomicFiles.writeBytes(dir.resolve(Da3Checkpoint.MODEL_YAML), yaml);
            }
        } catch (RuntimeException e) {
            for (Path f : written) {
                try {
                    Files.deleteIfExists(f);
                } catch (IOException ignored) {
                    // best effort: the failure itself is what the user sees
                }
            }
            if (created) {
                try {
                    Files.deleteIfExists(dir); // only when empty
                } catch (IOException ignored) {
                    // not empty or not removable: left as it is
                }
            }
            throw e;
        }
    }
}
