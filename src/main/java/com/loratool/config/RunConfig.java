package com.loratool.config;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.loratool.KeySuggester;
import com.loratool.LoraException;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * The typed description of a run, as read from YAML by {@link ConfigLoader}: sections
 * {@code model}, {@code data} (the typed {@link DataConfig}), {@code lora}, {@code train}, each
 * with every default resolved. Training writes it whole to {@code runs/<name>/config.yaml}
 * ({@link ConfigLoader#save}); eval, predict, export and benchmark read it back with the same
 * binder ({@link RunFolder}), so a run is described once. Every key is documented in
 * configs/README.md.
 *
 * <p>Immutable throughout: every field of every section is final and every list or map is an
 * unmodifiable copy, so a run's description cannot change after it is loaded. Changed copies come
 * from the {@code with...} methods and each section's {@code toBuilder()} (the benchmark builds one
 * per combination; the CLI applies --device/--threads/--devices this way).
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
        this.model = model == null ? new ModelSection() : model;
        this.data = data;
        this.lora = lora == null ? new LoraConfig() : lora;
        this.train = train == null ? new TrainSection() : train;
        this.source = source;
    }

    /** The same sections, recording {@code file} as where they were read from. */
    public RunConfig withSource(Path file) {
        return new RunConfig(model, data, lora, train, file);
    }

    /** A copy with another model section. */
    public RunConfig withModel(ModelSection m) {
        return new RunConfig(m, data, lora, train, source);
    }

    /** A copy with another data section. */
    public RunConfig withData(DataConfig d) {
        return new RunConfig(model, d, lora, train, source);
    }

    /** A copy with another lora section. */
    public RunConfig withLora(LoraConfig l) {
        return new RunConfig(model, data, l, train, source);
    }

    /** A copy with another train section. */
    public RunConfig withTrain(TrainSection t) {
        return new RunConfig(model, data, lora, t, source);
    }

    /** Equal runs: every section's every key has the same value (the source file does not count). */
    @Override
    public boolean equals(Object o) {
        return o instanceof RunConfig r && ConfigLoader.tree(this).equals(ConfigLoader.tree(r));
    }

    @Override
    public int hashCode() {
        return ConfigLoader.tree(this).hashCode();
    }

    @Override
    public String toString() {
        return ConfigLoader.toYaml(this);
    }

    private static final Set<String> OPTIMIZERS = Set.of("adam", "adamw");
    private static final Set<String> SCHEDULES = Set.of("constant", "cosine");
    private static final Set<String> LOSSES = union(TrainSection.RELATIVE_LOSSES, TrainSection.METRIC_LOSSES);
    private static final Set<String> METRICS = Set.of("val_loss", "abs_rel", "delta1");
    private static final Set<String> DEVICES = Set.of("auto", "cpu", "gpu");

    /** Checks every value's range; errors read "<file>: train.lr: must be > 0, got -1". */
    public void validate() {
        String w = source == null ? "" : source + ": ";
        lora.validate(w);
        TrainSection t = train;
        oneOf(w, "train.optimizer", t.optimizer, OPTIMIZERS);
        oneOf(w, "train.schedule", t.schedule, SCHEDULES);
        oneOf(w, "train.loss", t.loss, LOSSES);
        oneOf(w, "train.val_metric", t.valMetric, METRICS);
        oneOf(w, "train.device", t.device, DEVICES);
        check(w, "train.lr", t.lr > 0 && Double.isFinite(t.lr), "must be > 0", t.lr);
        check(w, "train.betas", t.betas != null && t.betas.size() == 2
                && t.betas.get(0) >= 0 && t.betas.get(0) < 1 && t.betas.get(1) >= 0 && t.betas.get(1) < 1,
                "must be two numbers in [0, 1)", t.betas);
        check(w, "train.eps", t.eps > 0, "must be > 0", t.eps);
        check(w, "train.weight_decay", t.weightDecay >= 0, "must be >= 0", t.weightDecay);
        check(w, "train.warmup_steps", t.warmupSteps >= 0, "must be >= 0", t.warmupSteps);
        check(w, "train.min_lr", t.minLr >= 0 && t.minLr <= t.lr, "must be in [0, lr]", t.minLr);
        check(w, "train.clip_grad_norm", t.clipGradNorm >= 0, "must be >= 0 (0 = off)", t.clipGradNorm);
        check(w, "train.grad_accum", t.gradAccum >= 1, "must be >= 1", t.gradAccum);
        check(w, "train.epochs", t.epochs >= 1, "must be >= 1", t.epochs);
        check(w, "train.batch_size", t.batchSize >= 1, "must be >= 1", t.batchSize);
        check(w, "train.devices", t.devices != null && t.devices.stream().allMatch(d -> d != null && d >= 0)
                && t.devices.stream().distinct().count() == t.devices.size(), "must be distinct GPU indices >= 0",
                t.devices);
        if (!t.devices.isEmpty() && "cpu".equals(t.device)) {
            throw new LoraException(w + "train.devices: GPU indices " + t.devices + " with train.device cpu;"
                    + " drop one of them");
        }
        check(w, "train.threads", t.threads >= 0, "must be >= 0 (0 = all cores)", t.threads);
        check(w, "train.grad_match_weight", t.gradMatchWeight >= 0, "must be >= 0", t.gradMatchWeight);
        check(w, "train.grad_match_scales", t.gradMatchScales >= 1, "must be >= 1", t.gradMatchScales);
        check(w, "train.retain_weight", t.retainWeight >= 0 && Double.isFinite(t.retainWeight), "must be >= 0 (0 = off)",
                t.retainWeight);
        if (t.retainWeight > 0 && data != null && (data.augment().hflip() || data.augment().rotateDegrees() > 0
                || data.augment().crops())) {
            throw new LoraException(w + "train.retain_weight: needs data.augment without hflip, rotate_degrees and crop"
                    + " (the base's predictions are computed once per unaugmented image); color_jitter is fine");
        }
        for (var e : t.lrMultipliers.entrySet()) {
            check(w, "train.lr_multipliers." + e.getKey(), e.getValue() != null && e.getValue() > 0
                    && Double.isFinite(e.getValue()), "must be > 0", e.getValue());
        }
        if (!t.lrMultipliers.isEmpty() && lora.trainModules.isEmpty()) {
            throw new LoraException(w + "train.lr_multipliers: scales the learning rate of lora.train_modules, which is"
                    + " empty");
        }
        check(w, "train.silog_lambda", t.silogLambda >= 0 && t.silogLambda <= 1, "must be in [0, 1]", t.silogLambda);
        check(w, "train.min_depth", t.minDepth > 0 && Double.isFinite(t.minDepth), "must be > 0 (metres)", t.minDepth);
        check(w, "train.early_stopping", t.earlyStopping >= 0, "must be >= 0 (0 = off)", t.earlyStopping);
        check(w, "train.keep_last", t.keepLast >= 1, "must be >= 1", t.keepLast);
        if (model.weights == null || model.weights.isBlank()) {
            throw new LoraException(w + "model.weights: missing (path of the base Depth Anything V2 weights)");
        }
        if (model.preset != null && model.config != null) {
            throw new LoraException(w + "model: give preset or config, not both");
        }
        if (data == null) {
            throw new LoraException(w + "data: missing section (at least data.root)");
        }
        if (data.root() == null || data.root().isBlank()) {
            throw new LoraException(w + "data.root: missing (the folder holding images_dir and depth_dir)");
        }
    }

    /**
     * Refuses a loss of the other kind than the model: a relative loss (ssi, silog, l1, mse: on
     * disparity up to scale and shift) on a metric model, or a metric loss (metric_silog) on a
     * relative one. {@code metricModel}: the resolved architecture's head; {@code modelKey} names
     * what made it so (e.g. "model.preset vits-metric-indoor").
     */
    public void checkLossFor(boolean metricModel, String modelKey) {
        String w = source == null ? "" : source + ": ";
        if (metricModel && !TrainSection.METRIC_LOSSES.contains(train.loss)) {
            throw new LoraException(w + "train.loss " + train.loss + " is a relative-depth loss (up to scale and shift)"
                    + " but " + modelKey + " is a metric model (depth in metres); use train.loss: metric_silog");
        }
        if (!metricModel && TrainSection.METRIC_LOSSES.contains(train.loss)) {
            throw new LoraException(w + "train.loss " + train.loss + " is a metric-depth loss but " + modelKey
                    + " is a relative model (inverse depth without unit); use ssi, silog, l1 or mse, or a metric base"
                    + " (model.preset vits-metric-indoor, ...)");
        }
    }

    private static Set<String> union(Set<String> a, Set<String> b) {
        Set<String> u = new HashSet<>(a);
        u.addAll(b);
        return Set.copyOf(u);
    }

    private static void oneOf(String w, String key, String value, Set<String> allowed) {
        if (value == null || !allowed.contains(value)) {
            String hint = value == null ? null : KeySuggester.closest(value, allowed);
            throw new LoraException(w + key + ": must be one of " + List.copyOf(new TreeSet<>(allowed))
                    + ", got " + value + (hint != null ? " (did you mean " + hint + "?)" : ""));
        }
    }

    private static void check(String w, String key, boolean ok, String rule, Object value) {
        if (!ok) {
            throw new LoraException(w + key + ": " + rule + ", got " + value);
        }
    }

    /** The run's name: train.run_name, or the config file's name without extension. */
    public String runName() {
        if (train.runName != null && !train.runName.isBlank()) {
            return train.runName;
        }
        if (source == null) {
            return "run";
        }
        String n = source.getFileName().toString();
        int dot = n.lastIndexOf('.');
        return dot > 0 ? n.substring(0, dot) : n;
    }

    public Path runDir() {
        return Path.of(train.outputDir).resolve(runName());
    }
}
