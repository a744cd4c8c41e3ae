package com.loratool.lora.export;

import com.fasterxml.jackson.databind.JsonNode;
import com.loratool.LoraException;
import com.loratool.io.Checksums;
import com.loratool.lora.AdapterConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A checkpoint folder ({@code runs/<run>/best}, {@code checkpoints/epoch-NNNN}) seen by eval and
 * the exports: the training format read by {@link com.loratool.lora.AdapterCheckpoint} (one reader
 * of {@code adapter.safetensors} + {@code adapter_config.json}), its tensors paired per module
 * ({@link AdapterSet}), and {@link #baseWeights} refusing base weights that are missing or differ
 * from the recorded checksum.
 */
public record AdapterCheckpoint(Path dir, AdapterSet adapters, AdapterConfig config) {
    public static final String ADAPTER_FILE = com.loratool.lora.AdapterCheckpoint.WEIGHTS;
    public static final String CONFIG_FILE = com.loratool.lora.AdapterCheckpoint.CONFIG;
    /** Base "weights" that are seeded random numbers, not a file ({@code model.weights: random}). */
    public static final String RANDOM = "random";

    public int r() {
        return config.r;
    }

    public double alpha() {
        return config.alpha;
    }

    public boolean rslora() {
        return config.rslora;
    }

    public String basePath() {
        return config.baseWeights;
    }

    public String baseSha256() {
        return config.baseWeightsSha256;
    }

    /** scaling = alpha / r (alpha / sqrt(r) with rslora). */
    public double scaling() {
        return rslora() ? alpha() / Math.sqrt(r()) : alpha() / r();
    }

    public boolean randomBase() {
        return RANDOM.equals(basePath());
    }

    /** The recorded architecture ({@code model_config}: an object with the model.yaml keys), or null. */
    public JsonNode modelConfig() {
        return config.modelConfig != null && config.modelConfig.isObject() ? config.modelConfig : null;
    }

    public static AdapterCheckpoint read(Path dir) {
        com.loratool.lora.AdapterCheckpoint ck = com.loratool.lora.AdapterCheckpoint.load(dir);
        Path cfgFile = dir.resolve(CONFIG_FILE);
        Path st = dir.resolve(ADAPTER_FILE);
        if (ck.config().baseWeights == null) {
            throw LoraException.file(cfgFile, "does not name the base weights (base_weights)");
        }
        AdapterSet set = AdapterSet.fromTensors(ck.tensors(), st);
        for (Map.Entry<String, LoraPair> e : set.layers().entrySet()) {
            if (e.getValue().rank() != ck.config().r) {
                throw LoraException.file(st, e.getKey() + " has rank " + e.getValue().rank() + " but "
                        + CONFIG_FILE + " says r = " + ck.config().r);
            }
        }
        return new AdapterCheckpoint(dir, set, ck.config());
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
        Path p = override != null ? override : locate(Path.of(basePath()));
        if (!Files.isRegularFile(p)) {
            throw LoraException.file(p, "base weights of checkpoint " + dir + " not found (pass the file with --weights)");
        }
        if (baseSha256() != null && !baseSha256().isBlank()) {
            String got = Checksums.sha256(p);
            if (!got.equalsIgnoreCase(baseSha256())) {
                throw LoraException.file(p, "differs from the base weights checkpoint " + dir + " was trained on (SHA-256 "
                        + got.substring(0, 12) + "..., expected " + baseSha256().substring(0, Math.min(12, baseSha256().length()))
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
     * Writes a checkpoint folder in the training format (used by {@code lora import});
     * {@code modelConfig} may be null.
     */
    public static void write(Path dir, AdapterSet set, int r, double alpha, boolean rslora, Path base, String sha256,
                             JsonNode modelConfig) {
        AdapterConfig c = new AdapterConfig();
        c.baseWeights = base.toString();
        c.baseWeightsSha256 = sha256;
        c.modelConfig = modelConfig;
        c.r = r;
        c.alpha = alpha;
        c.rslora = rslora;
        c.init = "kaiming";
        c.targets = new ArrayList<>(List.of("re:^(" + String.join("|", set.layers().keySet().stream()
                .map(m -> m.replace(".", "\\.")).toList()) + ")$"));
        c.adaptedModules = new ArrayList<>(set.layers().keySet());
        com.loratool.lora.AdapterCheckpoint.save(dir, c, set.toTensors());
    }
}
