package com.loratool.lora;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.loratool.LoraException;
import com.loratool.io.AtomicFiles;
import com.loratool.io.HostTensor;
import com.loratool.io.Safetensors;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * An adapter checkpoint folder: {@code adapter.safetensors} (keys {@code <module>.lora_A.weight}
 * (r, in[, k, k]) and {@code <module>.lora_B.weight} (out, r[, 1, 1]), float32) and
 * {@code adapter_config.json} ({@link AdapterConfig}). Apply with
 * {@link LoraInjector#apply(com.loratool.model.nn.Module, AdapterCheckpoint, ai.djl.ndarray.NDManager)}.
 */
public record AdapterCheckpoint(Path dir, AdapterConfig config, LinkedHashMap<String, HostTensor> tensors) {
    public static final String WEIGHTS = "adapter.safetensors";
    public static final String CONFIG = "adapter_config.json";

    static ObjectMapper json() {
        return new ObjectMapper()
                .setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
                .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
                .enable(SerializationFeature.INDENT_OUTPUT);
    }

    /** Reads a checkpoint folder; one-line errors for a missing or malformed file. */
    public static AdapterCheckpoint load(Path dir) {
        Path cfgFile = dir.resolve(CONFIG);
        Path weights = dir.resolve(WEIGHTS);
        if (!Files.isDirectory(dir)) {
            throw LoraException.file(dir, "no such adapter checkpoint folder");
        }
        if (!Files.exists(cfgFile)) {
            throw LoraException.file(cfgFile, "missing (not an adapter checkpoint folder?)");
        }
        if (!Files.exists(weights)) {
            throw LoraException.file(weights, "missing (not an adapter checkpoint folder?)");
        }
        AdapterConfig cfg;
        try {
            cfg = json().readValue(Files.readString(cfgFile), AdapterConfig.class);
        } catch (JsonProcessingException e) {
            throw LoraException.file(cfgFile, "not a valid adapter config: " + e.getOriginalMessage());
        } catch (IOException e) {
            throw LoraException.file(cfgFile, "cannot read: " + e.getMessage());
        }
        if (cfg.adaptedModules == null || cfg.adaptedModules.isEmpty() || cfg.r < 1) {
            throw LoraException.file(cfgFile, "no adapted_modules or no rank r");
        }
        LinkedHashMap<String, HostTensor> tensors = Safetensors.read(weights);
        return new AdapterCheckpoint(dir, cfg, tensors);
    }

    /** Writes both files into {@code dir} (created if needed), each atomically. */
    public static void save(Path dir, AdapterConfig cfg, Map<String, HostTensor> tensors) {
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw LoraException.file(dir, "cannot create folder: " + e.getMessage());
        }
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("format", "pt");
        meta.put("lora_tool", cfg.format);
        Safetensors.write(dir.resolve(WEIGHTS), tensors, meta);
        try {
            AtomicFiles.writeString(dir.resolve(CONFIG), json().writeValueAsString(cfg) + "\n");
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}
