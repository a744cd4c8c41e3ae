package com.loratool.config;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.loratool.LoraException;
import com.loratool.io.Json;
import java.nio.file.Path;
import java.util.Map;

/**
 * The typed description of a run, as read from YAML by {@link ConfigLoader}: sections
 * {@code model}, {@code data} ({@link DataConfig}), {@code lora} ({@link LoraConfig}), {@code train}
 * ({@link TrainSection}), each an immutable record with every default resolved and checked by its
 * own constructor. Training writes it whole to {@code runs/<name>/config.yaml}
 * ({@link ConfigLoader#save}); eval, predict, export and benchmark read it back with the same
 * binder ({@link RunFolder}), so a run is described once. Every key is documented in
 * configs/README.md.
 *
 * <p>Immutable throughout. Changed copies come from {@link #with} by dotted YAML key
 * ({@code cfg.with("train.batch_size", 1)}, {@code cfg.with("lora", otherLora)}), through each
 * section's {@link Section#with}: the one copy mechanism.
 */
@JsonPropertyOrder({"model", "data", "lora", "train"})
public final class RunConfig {
    public final ModelSection model;
    public final DataConfig data;
    public final LoraConfig lora;
    public final TrainSection train;

    /** The file this was read from (not part of the YAML). */
    @JsonIgnore
    public final Path source;

    /** All defaults and no data section (tests, benchmarks). */
    public RunConfig() {
        this(null, null, null, null);
    }

    @JsonCreator
    public RunConfig(@JsonProperty("model") ModelSection model, @JsonProperty("data") DataConfig data,
                     @JsonProperty("lora") LoraConfig lora, @JsonProperty("train") TrainSection train) {
        this(model, data, lora, train, null);
    }

    private RunConfig(ModelSection model, DataConfig data, LoraConfig lora, TrainSection train, Path source) {
        this.model = model == null ? ModelSection.defaults() : model;
        this.data = data;
        this.lora = lora == null ? LoraConfig.defaults() : lora;
        this.train = train == null ? TrainSection.defaults() : train;
        this.source = source;
    }

    /** The same sections, recording {@code file} as where they were read from. */
    public RunConfig withSource(Path file) {
        return new RunConfig(model, data, lora, train, file);
    }

    /**
     * A copy with the dotted YAML {@code key} set to {@code value}: a whole section
     * ({@code "lora"}, a {@link LoraConfig}) or a key of one ({@code "train.epochs"}, 3).
     */
    public RunConfig with(String key, Object value) {
        int dot = key.indexOf('.');
        String section = dot < 0 ? key : key.substring(0, dot);
        String rest = dot < 0 ? null : key.substring(dot + 1);
        return switch (section) {
            case "model" -> new RunConfig(rest == null ? (ModelSection) value : model.with(rest, value), data, lora, train,
                    source);
            case "data" -> new RunConfig(model, rest == null ? (DataConfig) value : data.with(rest, value), lora, train,
                    source);
            case "lora" -> new RunConfig(model, data, rest == null ? (LoraConfig) value : lora.with(rest, value), train,
                    source);
            case "train" -> new RunConfig(model, data, lora, rest == null ? (TrainSection) value : train.with(rest, value),
                    source);
            default -> throw new IllegalArgumentException(key + ": no such section (model, data, lora, train)");
        };
    }

    /** A copy with several dotted keys changed, in order. */
    public RunConfig with(Map<String, ?> changes) {
        RunConfig c = this;
        for (Map.Entry<String, ?> e : changes.entrySet()) {
            c = c.with(e.getKey(), e.getValue());
        }
        return c;
    }

    /** Equal runs: every section's every key has the same value (the source file does not count). */
    @Override
    public boolean equals(Object o) {
        return o instanceof RunConfig r && tree().equals(r.tree());
    }

    @Override
    public int hashCode() {
        return tree().hashCode();
    }

    /** The resolved config as a tree (every key with its effective value, unset ones as null). */
    JsonNode tree() {
        return Json.YAML.valueToTree(this);
    }

    /** The resolved config as YAML (every key with its effective value). */
    public String toYaml() {
        try {
            return Json.YAML.writeValueAsString(this);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public String toString() {
        return toYaml();
    }

    /**
     * Checks what a run needs beyond each section's own rules (those are checked when a section is
     * made): base weights and a data folder. Errors read "<file>: model.weights: missing ...".
     */
    public void validate() {
        String w = source == null ? "" : source + ": ";
        TrainSection t = train;
        if (t.retainWeight() > 0 && data != null && (data.augment().hflip() || data.augment().rotateDegrees() > 0
                || data.augment().crops())) {
            throw new LoraException(w + "train.retain_weight: needs data.augment without hflip, rotate_degrees and crop"
                    + " (the base's predictions are computed once per unaugmented image); color_jitter is fine");
        }
        if (!t.lrMultipliers().isEmpty() && lora.trainModules().isEmpty()) {
            throw new LoraException(w + "train.lr_multipliers: scales the learning rate of lora.train_modules, which is"
                    + " empty");
        }
        if (model.weights() == null || model.weights().isBlank()) {
            throw new LoraException(w + "model.weights: missing (path of the base Depth Anything V2 weights)");
        }
        if (data == null) {
            throw new LoraException(w + "data: missing section (at least data.root)");
        }
        if (data.root() == null || data.root().isBlank()) {
            throw new LoraException(w + "data.root: missing (the folder holding images_dir and depth_dir)");
        }
    }

    /**
     * The loss/model-kind check (the rule itself is {@link TrainSection.Loss#suits(TrainSection.ModelKind)}):
     * refuses a loss of another kind than the model. A Depth Anything V2 relative model takes ssi,
     * silog, l1 or mse (on disparity up to scale and shift), a V2 metric model metric_silog; a
     * Depth Anything 3 da3mono model depth_ssi (its output is depth, not disparity), a da3metric
     * model metric_silog (on focal x output / 300). {@code model}: the resolved architecture's kind
     * ({@code ModelConfig#lossKind}; null: a V2 relative one); {@code modelKey} names what made it so (e.g. "model.preset vits-metric-indoor").
     */
    public void checkLossFor(TrainSection.ModelKind model, String modelKey) {
        String w = source == null ? "" : source + ": ";
        TrainSection.Loss loss = train.loss();
        if (loss.suits(model)) {
            return;
        }
        if (model != null && model.isDa3()) {
            boolean metric = model == TrainSection.ModelKind.da3metric;
            throw new LoraException(w + "train.loss " + loss + " is " + (loss == TrainSection.Loss.depth_ssi
                    ? "the da3mono loss (on relative depth)" : loss.metric() ? "a metric-depth loss"
                    : "a Depth Anything V2 loss on disparity") + " but " + modelKey + " is a Depth Anything 3 "
                    + model + " model (" + (metric ? "depth in metres with a focal" : "relative depth, not disparity")
                    + "); use train.loss: " + (metric ? "metric_silog" : "depth_ssi"));
        }
        boolean metricModel = model == TrainSection.ModelKind.v2_metric;
        if (loss == TrainSection.Loss.depth_ssi) {
            throw new LoraException(w + "train.loss depth_ssi is the Depth Anything 3 da3mono loss (on depth) but "
                    + modelKey + " is a Depth Anything V2 " + (metricModel ? "metric model; use train.loss: metric_silog"
                    : "relative model (inverse depth); use ssi, silog, l1 or mse"));
        }
        if (metricModel) {
            throw new LoraException(w + "train.loss " + loss + " is a relative-depth loss (up to scale and shift)"
                    + " but " + modelKey + " is a metric model (depth in metres); use train.loss: metric_silog");
        }
        throw new LoraException(w + "train.loss " + loss + " is a metric-depth loss but " + modelKey
                + " is a relative model (inverse depth without unit); use ssi, silog, l1 or mse, or a metric base"
                + " (model.preset vits-metric-indoor, ...)");
    }

    /** The run's name: train.run_name, or the config file's name without extension. */
    public String runName() {
        if (train.runName() != null && !train.runName().isBlank()) {
            return train.runName();
        }
        if (source == null) {
            return "run";
        }
        String n = source.getFileName().toString();
        int dot = n.lastIndexOf('.');
        return dot > 0 ? n.substring(0, dot) : n;
    }

    public Path runDir() {
        return Path.of(train.outputDir()).resolve(runName());
    }
}
