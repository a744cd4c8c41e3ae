package com.loratool.lora.export;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.loratool.LoraException;
import com.loratool.io.AtomicFiles;
import com.loratool.io.Checksums;
import com.loratool.io.Safetensors;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * A training checkpoint folder ({@code runs/<run>/best}, {@code checkpoints/epoch-NNNN}):
 * {@code adapter.safetensors} and {@code adapter_config.json}, which names the base weights (path
 * and SHA-256), r, alpha and rslora. {@link #baseWeights()} refuses base weights that are missing
 * or differ from the recorded checksum.
 */
public record AdapterCheckpoint(Path dir, AdapterSet adapters, ObjectNode config, int r, double alpha,
                                boolean rslora, String basePath, String baseSha256) {
    public static final String ADAPTER_FILE = "adapter.safetensors";
    public static final String CONFIG_FILE = "adapter_config.json";
    /** Base "weights" that are seeded random numbers, not a file ({@code model.weights: random}). */
    public static final String RANDOM = "random";
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    /** scaling = alpha / r (alpha / sqrt(r) with rslora). */
    public double scaling() {
        return rslora ? alpha / Math.sqrt(r) : alpha / r;
    }

    public boolean randomBase() {
        return RANDOM.equals(basePath);
    }

    /** The seed of random base weights (config {@code base_weights.seed} or {@code seed}). */
    public Long randomSeed() {
        JsonNode b = config.path("base_weights");
        if (b.has("seed")) {
            return b.get("seed").asLong();
        }
        return config.has("seed") ? config.get("seed").asLong() : null;
    }

    /** The recorded architecture ({@code model_config}: an object with the model.yaml keys), or null. */
    public JsonNode modelConfig() {
        JsonNode n = config.path("model_config");
        return n.isObject() ? n : null;
    }

    public static AdapterCheckpoint read(Path dir) {
        if (!Files.isDirectory(dir)) {
            throw LoraException.file(dir, Files.exists(dir) ? "not a checkpoint folder" : "no such checkpoint folder");
        }
        Path cfgFile = dir.resolve(CONFIG_FILE);
        Path st = dir.resolve(ADAPTER_FILE);
        if (!Files.isRegularFile(cfgFile) || !Files.isRegularFile(st)) {
            throw LoraException.file(dir, "not a checkpoint folder (needs " + ADAPTER_FILE + " and " + CONFIG_FILE
                    + "; a training run keeps them in runs/<run>/best)");
        }
        JsonNode c;
        try {
            c = JSON.readTree(cfgFile.toFile());
        } catch (IOException e) {
            throw LoraException.file(cfgFile, "not valid JSON: " + e.getMessage(), e);
        }
        if (!c.isObject()) {
            throw LoraException.file(cfgFile, "not a JSON object");
        }
        AdapterSet set = AdapterSet.fromTensors(Safetensors.read(st), st);
        JsonNode lora = c.has("lora") && c.get("lora").isObject() ? c.get("lora") : c;
        int r = first(lora, "r").asInt(set.maxRank());
        double alpha = first(lora, "alpha", "lora_alpha").asDouble(r);
        boolean rslora = first(lora, "rslora", "use_rslora").asBoolean(false);
        JsonNode base = c.path("base_weights");
        String path;
        String sha;
        if (base.isObject()) {
            path = base.path("path").asText(null);
            sha = base.path("sha256").asText(null);
        } else {
            path = base.isTextual() ? base.asText() : first(c, "base_weights_path", "weights").asText(null);
            sha = first(c, "base_weights_sha256", "sha256").asText(null);
        }
        if (path == null) {
            throw LoraException.file(cfgFile, "does not name the base weights (base_weights.path)");
        }
        for (Map.Entry<String, LoraPair> e : set.layers().entrySet()) {
            if (e.getValue().rank() != r) {
                throw LoraException.file(st, e.getKey() + " has rank " + e.getValue().rank() + " but "
                        + CONFIG_FILE + " says r = " + r);
            }
        }
        return new AdapterCheckpoint(dir, set, (ObjectNode) c, r, alpha, rslora, path, sha);
    }

    private static JsonNode first(JsonNode n, String... keys) {
        for (String k : keys) {
            if (n.has(k) && !n.get(k).isNull()) {
                return n.get(k);
            }
        }
        return com.fasterxml.jackson.databind.node.MissingNode.getInstance();
    }

    /**
     * The base weights file, checked against the SHA-256 recorded at training. {@code override}
     * (e.g. {@code --weights}) replaces the recorded path; relative recorded paths are tried as
     * given, then from the run folder's parent folders.
     */
    public Path baseWeights(Path override) {
        if (randomBase()) {
            throw new LoraException(dir.resolve(CONFIG_FILE) + ": the base weights are seeded random numbers "
                    + "(model.weights: random), not a file");
        }
        Path p = override != null ? override : locate(Path.of(basePath));
        if (!Files.isRegularFile(p)) {
            throw LoraException.file(p, "base weights of checkpoint " + dir + " not found (pass the file with --weights)");
        }
        if (baseSha256 != null && !baseSha256.isBlank()) {
            String got = Checksums.sha256(p);
            if (!got.equalsIgnoreCase(baseSha256)) {
                throw LoraException.file(p, "differs from the base weights checkpoint " + dir + " was trained on (SHA-256 "
                        + got.substring(0, 12) + "..., expected " + baseSha256.substring(0, Math.min(12, baseSha256.length()))
                        + "...); adapters only make sense on their own base weights");
            }
        }
        return p;
    }

    private Path locate(Path recorded) {
        if (recorded.isAbsolute() || Files.exists(recorded)) {
            return recorded;
        }
        for (Path d = dir.toAbsolutePath().getParent(); d != null; d = d.getParent()) {
            Path c = d.resolve(recorded);
            if (Files.isRegularFile(c)) {
                return c;
            }
        }
        return recorded;
    }

    /**
     * Writes a checkpoint folder in the training format ({@code com.loratool.lora.AdapterConfig}'s
     * keys), used by {@code lora import}; {@code modelConfig} may be null.
     */
    public static void write(Path dir, AdapterSet set, int r, double alpha, boolean rslora, Path base, String sha256,
                             JsonNode modelConfig) {
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw LoraException.file(dir, "cannot create folder: " + e.getMessage(), e);
        }
        Safetensors.write(dir.resolve(ADAPTER_FILE), set.toTensors(), Map.of("format", "pt"));
        ObjectNode c = JSON.createObjectNode();
        c.put("format", "lora-tool-adapter/1");
        c.put("peft_type", "LORA");
        c.put("base_weights", base.toString());
        c.put("base_weights_sha256", sha256);
        c.set("model_config", modelConfig);
        c.put("r", r);
        c.put("alpha", alpha);
        c.put("rslora", rslora);
        c.put("dropout", 0.0);
        c.put("init", "kaiming");
        var t = c.putArray("targets");
        t.add("re:^(" + String.join("|", set.layers().keySet().stream()
                .map(m -> m.replace(".", "\\.")).toList()) + ")$");
        c.put("head_convs", false);
        var mods = c.putArray("adapted_modules");
        set.layers().keySet().forEach(mods::add);
        c.put("epoch", 0);
        try {
            AtomicFiles.writeString(dir.resolve(CONFIG_FILE), JSON.writeValueAsString(c) + "\n");
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}
