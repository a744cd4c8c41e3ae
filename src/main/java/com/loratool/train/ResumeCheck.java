package com.loratool.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.loratool.LoraException;
import com.loratool.config.ModelSection;
import com.loratool.config.ConfigLoader;
import com.loratool.config.RunConfig;
import com.loratool.config.RunFolder;
import com.loratool.io.Json;
import com.loratool.lora.AdapterConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * What {@code lora train --resume} must keep: everything that defines the model and the data the
 * saved adapters were trained for. The base weights (SHA-256, recorded in the checkpoint's
 * adapter_config.json), the seed when the base is random ({@code weights: random} builds the base
 * from train.seed), the architecture (the checkpoint's model_config), the whole lora section (as
 * recorded in the checkpoint) and the network size (data.size / data.scale / data.input_size of
 * the run's config.yaml). A difference is refused naming the key and both values. Everything else
 * (epochs, lr schedule, logging, early stopping, ...) may change; docs/training.md lists both.
 */
final class ResumeCheck {
    /** The data keys that set the network size. */
    static final List<String> SIZE_KEYS = List.of("size", "scale", "input_size");

    private ResumeCheck() {}

    /**
     * @param checkpoint the epoch checkpoint being resumed
     * @param sha256 SHA-256 of this run's base weights ({@link ModelSection#RANDOM} for random ones)
     * @param modelConfig this run's architecture, as written to adapter_config.json
     */
    static void check(RunConfig now, Path runDir, Path checkpoint, AdapterConfig saved, String sha256,
            JsonNode modelConfig) {
        String where = runDir + ": --resume: ";
        String tail = "; resume with the run's settings, or start a new run (--force, or another train.run_name)";
        if (!Objects.equals(saved.baseWeightsSha256(), sha256)) {
            throw new LoraException(where + "model.weights differs: the run's adapters were trained on "
                    + describe(saved.baseWeights(), saved.baseWeightsSha256()) + ", this run's base is "
                    + describe(now.model.weights(), sha256) + tail);
        }
        Path file = runDir.resolve(RunFolder.CONFIG_FILE);
        if (!Files.isRegularFile(file)) {
            throw LoraException.file(file, "missing: cannot check what --resume continues (start over with --force)");
        }
        RunConfig before = ConfigLoader.load(file, List.of());
        if (now.model.randomWeights() && !before.train.seed().equals(now.train.seed())) {
            throw new LoraException(where + "train.seed differs: " + before.train.seed() + " in the run, " + now.train.seed()
                    + " now (with model.weights: random the seed builds the base model)" + tail);
        }
        String arch = firstDifference(saved.modelConfig(), modelConfig, "");
        if (arch != null) {
            throw new LoraException(where + "the architecture differs: " + arch + tail);
        }
        ObjectMapper m = Json.YAML;
        String lora = firstDifference(m.valueToTree(saved.lora()), m.valueToTree(now.lora), "lora.");
        if (lora != null) {
            throw new LoraException(where + lora + tail);
        }
        JsonNode sizeBefore = m.valueToTree(before.data);
        JsonNode sizeNow = m.valueToTree(now.data);
        for (String k : SIZE_KEYS) {
            JsonNode a = sizeBefore.get(k);
            JsonNode b = sizeNow.get(k);
            if (!nodeEquals(a, b)) {
                throw new LoraException(where + "data." + k + " (network size) differs: " + text(a) + " in the run, "
                        + text(b) + " now" + tail);
            }
        }
    }

    private static String describe(String weights, String sha) {
        return ModelSection.RANDOM.equals(sha) ? "random weights" : weights + " (sha256 " + abbrev(sha) + ")";
    }

    private static String abbrev(String sha) {
        return sha == null ? "none recorded" : sha.length() > 12 ? sha.substring(0, 12) + "…" : sha;
    }

    /** "key: A in the run, B now" for the first key whose values differ, or null. */
    static String firstDifference(JsonNode before, JsonNode now, String prefix) {
        if (before != null && now != null && before.isObject() && now.isObject()) {
            Set<String> keys = new LinkedHashSet<>();
            before.fieldNames().forEachRemaining(keys::add);
            now.fieldNames().forEachRemaining(keys::add);
            for (String k : keys) {
                String d = firstDifference(before.get(k), now.get(k), prefix + k + ".");
                if (d != null) {
                    return d;
                }
            }
            return null;
        }
        if (nodeEquals(before, now)) {
            return null;
        }
        String key = prefix.endsWith(".") ? prefix.substring(0, prefix.length() - 1) : prefix;
        return key + " differs: " + text(before) + " in the run, " + text(now) + " now";
    }

    private static boolean nodeEquals(JsonNode a, JsonNode b) {
        boolean na = a == null || a.isNull();
        boolean nb = b == null || b.isNull();
        if (na || nb) {
            return na && nb;
        }
        if (a.isNumber() && b.isNumber()) {
            return a.decimalValue().compareTo(b.decimalValue()) == 0;
        }
        return a.equals(b);
    }

    private static String text(JsonNode n) {
        return n == null || n.isNull() ? "unset" : n.isTextual() ? n.asText() : n.toString();
    }
}
