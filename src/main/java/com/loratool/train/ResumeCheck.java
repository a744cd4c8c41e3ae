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
import com.loratool.data.Pair;
import com.loratool.data.Split;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Collectors;

/**
 * What {@code lora train --resume} must keep: everything that makes the run one experiment, the
 * model and the data the saved adapters were trained for and what they were trained to do. The
 * base weights (SHA-256, recorded in the checkpoint's adapter_config.json), the seed when the base
 * is random ({@code weights: random} builds the base from train.seed), the architecture (the
 * checkpoint's model_config), the whole lora section (as recorded in the checkpoint), the data
 * ({@link #SAME_DATA}: the folder, the pairing, the split, the size rule, how depth is read; then
 * the split itself against split.json, {@link #checkSplit}) and the objective ({@link #SAME_TRAIN}:
 * the loss and its settings, val_metric) of the run's config.yaml. A difference is refused naming
 * the key, both values and the changes that are accepted ({@link #ACCEPTED_DATA},
 * {@link #ACCEPTED_TRAIN}: how long and how fast it trains, augmentation, caching, logging);
 * docs/training.md lists both.
 */
final class ResumeCheck {
    /** The data keys that set the network size. */
    static final List<String> SIZE_KEYS = List.of("size", "scale", "input_size");
    /** data keys that must match: which images, which split, what size, how depth is read. */
    static final List<String> SAME_DATA = List.of("root", "images_dir", "depth_dir", "strip_suffixes", "size", "scale",
            "input_size", "image_interpolation", "depth_resize", "val_fraction", "max_train_images", "seed",
            "depth_units", "depth_scale", "npz_key");
    /** data keys --resume may change. */
    static final List<String> ACCEPTED_DATA = List.of("augment", "cache", "strict");
    /** train keys that must match: the objective, and the metric that picks best/. */
    static final List<String> SAME_TRAIN = List.of("loss", "grad_match_weight", "grad_match_scales", "retain_weight",
            "silog_lambda", "min_depth", "use_filled", "val_metric");
    /** train keys --resume may change (train.seed too, unless the base is random). */
    static final List<String> ACCEPTED_TRAIN = List.of("epochs", "lr", "schedule", "warmup_steps", "min_lr",
            "optimizer", "betas", "eps", "weight_decay", "clip_grad_norm", "batch_size", "grad_accum",
            "lr_multipliers", "early_stopping", "keep_last", "seed", "device", "devices", "threads", "output_dir",
            "run_name");

    private ResumeCheck() {}

    /** "; that makes it another experiment: --resume accepts changes of ...; resume ..., or start a new run". */
    static String tail() {
        return "; that makes it another experiment: --resume accepts changes of "
                + ACCEPTED_TRAIN.stream().filter(k -> !k.equals("output_dir") && !k.equals("run_name"))
                        .map(k -> "train." + k).collect(Collectors.joining(", "))
                + ", " + ACCEPTED_DATA.stream().map(k -> "data." + k).collect(Collectors.joining(", "))
                + "; resume with the run's other settings, or start a new run (--force, or another train.run_name)";
    }

    /**
     * @param checkpoint the epoch checkpoint being resumed
     * @param sha256 SHA-256 of this run's base weights ({@link ModelSection#RANDOM} for random ones)
     * @param modelConfig this run's architecture, as written to adapter_config.json
     */
    static void check(RunConfig now, Path runDir, Path checkpoint, AdapterConfig saved, String sha256,
            JsonNode modelConfig) {
        String where = runDir + ": --resume: ";
        String tail = tail();
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
        JsonNode dataBefore = m.valueToTree(before.data);
        JsonNode dataNow = m.valueToTree(now.data);
        for (String k : SAME_DATA) {
            JsonNode a = dataBefore.get(k);
            JsonNode b = dataNow.get(k);
            boolean same = k.equals("root") ? sameFolder(a, b) : nodeEquals(a, b);
            if (!same) {
                throw new LoraException(where + "data." + k + (SIZE_KEYS.contains(k) ? " (network size)" : "")
                        + " differs: " + text(a) + " in the run, " + text(b) + " now" + tail);
            }
        }
        JsonNode trainBefore = m.valueToTree(before.train);
        JsonNode trainNow = m.valueToTree(now.train);
        for (String k : SAME_TRAIN) {
            String d = firstDifference(trainBefore.get(k), trainNow.get(k), "train." + k + ".");
            if (d != null) {
                throw new LoraException(where + d + tail);
            }
        }
    }

    /**
     * The epochs the resumed checkpoint has done against {@code train.epochs}: fewer asked for is
     * an error (a run does not shrink); as many is nothing to train (true: the caller says so and
     * changes nothing).
     */
    static boolean nothingToTrain(RunConfig now, Path runDir, int done) {
        int epochs = now.train.epochs();
        if (epochs < done) {
            throw new LoraException(runDir + ": --resume: train.epochs is " + epochs + ", but the run has done " + done
                    + " epochs; set train.epochs above " + done + " to train more");
        }
        return epochs == done;
    }

    /**
     * The split the data gives now against the run's split.json (the stems of each side): another
     * file in the folder, or one gone, is another validation set for the same metrics.csv.
     */
    static void checkSplit(Path runDir, Split now, List<String> stripSuffixes) {
        Path file = runDir.resolve("split.json");
        if (!Files.isRegularFile(file)) {
            throw LoraException.file(file, "missing: cannot check what --resume continues (start over with --force)");
        }
        String where = runDir + ": --resume: the split differs from the run's split.json: ";
        Map<String, List<Pair>> sides = new LinkedHashMap<>();
        sides.put("train", now.train());
        sides.put("val", now.val());
        Map<String, String> sideOf = new LinkedHashMap<>();
        for (Map.Entry<String, List<Pair>> e : sides.entrySet()) {
            e.getValue().forEach(p -> sideOf.put(p.stem(), e.getKey()));
        }
        Map<String, String> sideBefore = new LinkedHashMap<>();
        for (String side : sides.keySet()) {
            Split.stems(file, side, stripSuffixes).forEach(stem -> sideBefore.put(stem, side));
        }
        for (Map.Entry<String, String> e : new TreeMap<>(sideOf).entrySet()) {
            if (!sideBefore.containsKey(e.getKey())) {
                throw new LoraException(where + "'" + e.getKey() + "' is new (" + e.getValue() + ")" + tail());
            }
        }
        for (Map.Entry<String, String> e : new TreeMap<>(sideBefore).entrySet()) {
            if (!sideOf.containsKey(e.getKey())) {
                throw new LoraException(where + "'" + e.getKey() + "' (" + e.getValue() + ") is gone" + tail());
            }
        }
        for (Map.Entry<String, String> e : new TreeMap<>(sideOf).entrySet()) {
            String was = sideBefore.get(e.getKey());
            if (!was.equals(e.getValue())) {
                throw new LoraException(where + "'" + e.getKey() + "' moved from " + was + " to " + e.getValue() + tail());
            }
        }
    }

    /** Two data.root values name the same folder (the same file, or the same absolute path when one is missing). */
    private static boolean sameFolder(JsonNode a, JsonNode b) {
        if (nodeEquals(a, b)) {
            return true;
        }
        if (a == null || b == null || !a.isTextual() || !b.isTextual()) {
            return false;
        }
        Path pa = Path.of(a.asText()).toAbsolutePath().normalize();
        Path pb = Path.of(b.asText()).toAbsolutePath().normalize();
        try {
            return pa.equals(pb) || (Files.exists(pa) && Files.exists(pb) && Files.isSameFile(pa, pb));
        } catch (IOException e) {
            return false;
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
