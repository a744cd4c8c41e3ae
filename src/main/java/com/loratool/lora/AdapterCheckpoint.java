package com.loratool.lora;

import com.loratool.io.InputFiles;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.loratool.LoraException;
import com.loratool.config.ModelSection;
import com.loratool.config.LoraConfig;
import com.loratool.io.AtomicFiles;
import com.loratool.io.Checksums;
import com.loratool.io.HostTensor;
import com.loratool.io.Json;
import com.loratool.io.Safetensors;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;

/**
 * An adapter checkpoint folder ({@code runs/<run>/best}, {@code checkpoints/epoch-NNNN}, the
 * output of {@code lora import}): {@code adapter.safetensors} (keys {@code <module>.lora_A.weight}
 * (r, in[, k, k]) and {@code <module>.lora_B.weight} (out, r[, 1, 1]), float32) and
 * {@code adapter_config.json} ({@link AdapterConfig}). The one reader and writer of that format;
 * the tensors come paired per module ({@link AdapterSet}), each layer's scaling from
 * {@link #scaling(String)}, and {@link #baseWeights} refuses base weights that are missing or
 * differ from the recorded checksum. Apply to a model with {@link LoraInjector#apply}.
 * {@code modules}: the parameters of {@code train_modules} (trained fully), by their official
 * names, stored whole next to the adapters; empty without train_modules.
 */
public record AdapterCheckpoint(Path dir, AdapterConfig config, AdapterSet adapters,
                                LinkedHashMap<String, HostTensor> modules) {
    public static final String WEIGHTS = "adapter.safetensors";
    public static final String CONFIG = "adapter_config.json";

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
        JsonNode tree = Json.readFinite(cfgFile); // NaN or Infinity: one line naming the key
        try {
            cfg = AdapterConfig.fromJson(tree);
        } catch (JsonProcessingException e) {
            throw LoraException.file(cfgFile, "not a valid adapter config: " + e.getOriginalMessage());
        } catch (LoraException e) {
            throw LoraException.file(cfgFile, e.getMessage());
        }
        if (cfg.adaptedModules().isEmpty() && cfg.lora().trainModules().isEmpty()) {
            throw LoraException.file(cfgFile, "no adapted_modules");
        }
        List<String> trainModules = cfg.lora().trainModules();
        LinkedHashMap<String, HostTensor> all = new LinkedHashMap<>(Safetensors.read(weights));
        LinkedHashMap<String, HostTensor> modules = new LinkedHashMap<>();
        if (!trainModules.isEmpty()) {
            for (var it = all.entrySet().iterator(); it.hasNext(); ) {
                var e = it.next();
                if (!isAdapterKey(e.getKey())) {
                    modules.put(e.getKey(), e.getValue());
                    it.remove();
                }
            }
            if (modules.isEmpty()) {
                throw LoraException.file(weights, "holds no tensors of the train_modules " + trainModules
                        + " that " + CONFIG + " lists");
            }
        }
        AdapterSet set = all.isEmpty() && cfg.adaptedModules().isEmpty() ? new AdapterSet(new LinkedHashMap<>())
                : AdapterSet.fromTensors(all, weights);
        AdapterCheckpoint ck = new AdapterCheckpoint(dir, cfg, set, modules);
        if (!ck.adapters.layers().keySet().equals(new LinkedHashSet<>(cfg.adaptedModules()))) {
            throw LoraException.file(weights, "holds adapters for " + ck.adapters.layers().size() + " modules, but "
                    + CONFIG + " lists " + cfg.adaptedModules().size() + " different or other adapted_modules");
        }
        for (Map.Entry<String, LoraPair> e : ck.adapters.layers().entrySet()) {
            if (e.getValue().dora() != cfg.lora().dora()) {
                throw LoraException.file(weights, e.getKey() + (cfg.lora().dora() ? " has no lora_magnitude_vector but "
                        + CONFIG + " says dora: true" : " has a lora_magnitude_vector but " + CONFIG + " says dora: false"));
            }
            int want = ck.scaling(e.getKey()).r();
            if (e.getValue().rank() != want) {
                throw LoraException.file(weights, e.getKey() + " has rank " + e.getValue().rank() + " but "
                        + CONFIG + " says r = " + want);
            }
        }
        return ck;
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
        meta.put("lora_tool", cfg.format());
        Safetensors.write(dir.resolve(WEIGHTS), tensors, meta);
        try {
            AtomicFiles.writeString(dir.resolve(CONFIG), Json.pretty(Json.SNAKE).writeValueAsString(cfg.toJson()) + "\n");
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Writes adapters that did not come from training (used by {@code lora import}): targets are
     * exactly their modules; {@code modelConfig} may be null.
     */
    public static void save(Path dir, AdapterSet set, LoraScaling scaling, Path base, String sha256,
                            JsonNode modelConfig) {
        save(dir, set, scaling, base, sha256, modelConfig, new LinkedHashMap<>());
    }

    /**
     * As {@link #save(Path, AdapterSet, LoraScaling, Path, String, JsonNode)}, with fully trained
     * parameters (official names, e.g. PEFT's modules_to_save): train_modules lists the modules that
     * own them, and they are stored whole next to the adapters.
     */
    public static void save(Path dir, AdapterSet set, LoraScaling scaling, Path base, String sha256,
                            JsonNode modelConfig, LinkedHashMap<String, HostTensor> modules) {
        LinkedHashSet<String> owners = new LinkedHashSet<>();
        modules.keySet().forEach(k -> owners.add(k.substring(0, Math.max(0, k.lastIndexOf('.')))));
        LoraConfig lora = LoraConfig.defaults().with(Map.of("r", scaling.r(), "alpha", scaling.alpha(),
                "rslora", scaling.rslora(), "dora", set.dora(),
                "targets", List.of("re:^(" + String.join("|", set.layers().keySet().stream()
                        .map(m -> m.replace(".", "\\.")).toList()) + ")$"),
                "train_modules", new ArrayList<>(owners)));
        AdapterConfig c = new AdapterConfig(null, null, base.toString(), sha256, modelConfig, lora,
                new ArrayList<>(set.layers().keySet()), 0);
        LinkedHashMap<String, HostTensor> all = set.toTensors();
        all.putAll(modules);
        save(dir, c, all);
    }

    /** The flat tensor map of {@code adapter.safetensors}: the adapters, then the fully trained parameters. */
    public LinkedHashMap<String, HostTensor> tensors() {
        LinkedHashMap<String, HostTensor> out = adapters.toTensors();
        out.putAll(modules);
        return out;
    }

    /** Whether a tensor name is an adapter's ({@code .lora_A.weight}, {@code .lora_B.weight}, DoRA's magnitude). */
    public static boolean isAdapterKey(String k) {
        return k.endsWith(AdapterSet.A_SUFFIX) || k.endsWith(AdapterSet.B_SUFFIX) || k.endsWith(AdapterSet.M_SUFFIX);
    }

    public int r() {
        return config.lora().r();
    }

    public double alpha() {
        return config.lora().alpha();
    }

    public boolean rslora() {
        return config.lora().rslora();
    }

    /** The (r, alpha, rslora) and scaling of one adapted module. */
    public LoraScaling scaling(String module) {
        return LoraScaling.of(config.lora(), module);
    }

    /** The checkpoint's own (r, alpha, rslora), what its modules share unless given their own. */
    public LoraScaling scaling() {
        return new LoraScaling(config.lora().r(), config.lora().alpha(), config.lora().rslora());
    }

    public String basePath() {
        return config.baseWeights();
    }

    public String baseSha256() {
        return config.baseWeightsSha256();
    }

    public boolean randomBase() {
        return ModelSection.RANDOM.equals(basePath());
    }

    /** The recorded architecture ({@code model_config}: an object with the model.yaml keys), or null. */
    public JsonNode modelConfig() {
        return config.modelConfig() != null && config.modelConfig().isObject() ? config.modelConfig() : null;
    }

    /**
     * The base weights file, checked against the SHA-256 recorded at training. {@code override}
     * (e.g. {@code --weights}) replaces the recorded path; relative recorded paths are tried as
     * given, then from the run folder's parent folders.
     */
    public Path baseWeights(Path override) {
        if (randomBase()) {
            throw new LoraException(dir.resolve(CONFIG) + ": the base weights are seeded random numbers "
                    + "(model.weights: random), not a file");
        }
        if (override == null && basePath() == null) {
            throw LoraException.file(dir.resolve(CONFIG), "does not name the base weights (base_weights; pass the file "
                    + "with --weights)");
        }
        Path p = baseFile(override);
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

    /**
     * Where {@link #baseWeights} looks for the base weights, without reading or checking them:
     * {@code override}, else the recorded path located as there; null for random weights or none recorded.
     * For the output guard, which must see the file a command will read.
     */
    public Path baseFile(Path override) {
        if (override != null) {
            return override;
        }
        return randomBase() || basePath() == null ? null : locate(Path.of(basePath()));
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
}
