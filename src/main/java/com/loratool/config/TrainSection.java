package com.loratool.config;

import com.fasterxml.jackson.databind.annotation.JsonDeserialize;
import com.fasterxml.jackson.databind.annotation.JsonPOJOBuilder;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The {@code train:} section: optimiser, schedule, loss, validation, checkpoints. Documented in
 * configs/README.md. Immutable: Jackson binds it through {@link Builder}; change a copy with
 * {@code t.toBuilder()}, set the builder's fields, {@code build()} (and {@link RunConfig#withTrain}).
 */
@JsonDeserialize(builder = TrainSection.Builder.class)
public final class TrainSection {
    /** Losses on relative depth (disparity up to scale and shift): for relative models only. */
    public static final Set<String> RELATIVE_LOSSES = Set.of("ssi", "silog", "l1", "mse");
    /** Losses on metric depth (metres, no alignment): for metric models only. */
    public static final Set<String> METRIC_LOSSES = Set.of("metric_silog");

    /** adam | adamw. */
    public final String optimizer;
    public final double lr;
    public final List<Double> betas;
    public final double eps;
    /** Adam: L2 added to the gradient (PyTorch Adam); AdamW: decoupled decay. */
    public final double weightDecay;
    /** constant | cosine (both after the linear warm-up). */
    public final String schedule;
    /** Optimiser steps of linear warm-up from 0 to lr. */
    public final int warmupSteps;
    /** Cosine schedule's final learning rate. */
    public final double minLr;
    /** Global-norm gradient clipping; 0 = off. */
    public final double clipGradNorm;
    /** Micro-batches accumulated per optimiser step. */
    public final int gradAccum;
    public final int epochs;
    public final int batchSize;
    public final long seed;
    /** auto | cpu | gpu (the CLI's --device overrides). */
    public final String device;
    /**
     * GPU indices for data-parallel training, one model replica per GPU, each batch split across
     * them (the CLI's --devices overrides); empty = the one device of {@code device}.
     */
    public final List<Integer> devices;
    /** PyTorch CPU threads, 0 = all cores (the CLI's --threads overrides). */
    public final int threads;
    /**
     * ssi | silog | l1 | mse (relative models: on disparity, up to scale and shift) |
     * metric_silog (metric models: the official SiLog on depth in metres, no alignment).
     */
    public final String loss;
    /** Weight of the multi-scale gradient-matching term added to the ssi loss (MiDaS uses 0.5); 0 = off. */
    public final double gradMatchWeight;
    /** Scales of the gradient-matching term. */
    public final int gradMatchScales;
    /**
     * Weight of the retention term: the scale-shift-invariant loss between the adapted prediction
     * and the frozen base's on the same training image (base predictions computed once per image
     * before training); 0 = off.
     */
    public final double retainWeight;
    /**
     * Learning-rate factors of fully trained modules ({@code lora.train_modules}) by module name
     * (that module's parameters) or {@code re:<regex>} on parameter names; the first match wins,
     * everything else 1 (the official metric script trains the head at 10x).
     */
    public final Map<String, Double> lrMultipliers;
    /** SILog's lambda (silog and metric_silog). */
    public final double silogLambda;
    /** metric_silog: pixels whose true depth is below this many metres do not count (the upper bound is the model's max_depth). */
    public final double minDepth;
    /** Also use pixels whose depth was filled from a neighbour (default: only measured pixels). */
    public final boolean useFilled;
    /** Metric that picks best/ and drives early stopping: val_loss | abs_rel | delta1. */
    public final String valMetric;
    /** Stop after this many epochs without improvement of val_metric; 0 = never. */
    public final int earlyStopping;
    /** Epoch checkpoints kept (older ones deleted); best/ is kept apart. */
    public final int keepLast;
    /** Folder holding run directories. */
    public final String outputDir;
    /** Run directory name under output_dir; empty = the config file's name. */
    public final String runName;

    /** All defaults. */
    public TrainSection() {
        this(new Builder());
    }

    private TrainSection(Builder b) {
        this.optimizer = b.optimizer;
        this.lr = b.lr;
        this.betas = b.betas == null ? null : Collections.unmodifiableList(new ArrayList<>(b.betas));
        this.eps = b.eps;
        this.weightDecay = b.weightDecay;
        this.schedule = b.schedule;
        this.warmupSteps = b.warmupSteps;
        this.minLr = b.minLr;
        this.clipGradNorm = b.clipGradNorm;
        this.gradAccum = b.gradAccum;
        this.epochs = b.epochs;
        this.batchSize = b.batchSize;
        this.seed = b.seed;
        this.device = b.device;
        this.devices = b.devices == null ? null : Collections.unmodifiableList(new ArrayList<>(b.devices));
        this.threads = b.threads;
        this.loss = b.loss;
        this.gradMatchWeight = b.gradMatchWeight;
        this.gradMatchScales = b.gradMatchScales;
        this.retainWeight = b.retainWeight;
        this.lrMultipliers = Collections.unmodifiableMap(b.lrMultipliers == null ? new LinkedHashMap<>()
                : new LinkedHashMap<>(b.lrMultipliers));
        this.silogLambda = b.silogLambda;
        this.minDepth = b.minDepth;
        this.useFilled = b.useFilled;
        this.valMetric = b.valMetric;
        this.earlyStopping = b.earlyStopping;
        this.keepLast = b.keepLast;
        this.outputDir = b.outputDir;
        this.runName = b.runName;
    }

    /** A builder holding this section's values. */
    public Builder toBuilder() {
        Builder b = new Builder();
        b.optimizer = optimizer;
        b.lr = lr;
        b.betas = betas;
        b.eps = eps;
        b.weightDecay = weightDecay;
        b.schedule = schedule;
        b.warmupSteps = warmupSteps;
        b.minLr = minLr;
        b.clipGradNorm = clipGradNorm;
        b.gradAccum = gradAccum;
        b.epochs = epochs;
        b.batchSize = batchSize;
        b.seed = seed;
        b.device = device;
        b.devices = devices;
        b.threads = threads;
        b.loss = loss;
        b.gradMatchWeight = gradMatchWeight;
        b.gradMatchScales = gradMatchScales;
        b.retainWeight = retainWeight;
        b.lrMultipliers = lrMultipliers;
        b.silogLambda = silogLambda;
        b.minDepth = minDepth;
        b.useFilled = useFilled;
        b.valMetric = valMetric;
        b.earlyStopping = earlyStopping;
        b.keepLast = keepLast;
        b.outputDir = outputDir;
        b.runName = runName;
        return b;
    }

    /**
     * The mutable twin of {@link TrainSection} (same fields, the defaults as initial values; the
     * YAML binder fills it key by key, unknown keys are errors).
     */
    @JsonPOJOBuilder(withPrefix = "")
    public static final class Builder {
        public String optimizer = "adam";
        public double lr = 1e-4;
        public List<Double> betas = List.of(0.9, 0.999);
        public double eps = 1e-8;
        public double weightDecay = 0.0;
        public String schedule = "constant";
        public int warmupSteps = 0;
        public double minLr = 0.0;
        public double clipGradNorm = 0.0;
        public int gradAccum = 1;
        public int epochs = 25;
        public int batchSize = 4;
        public long seed = 42;
        public String device = "auto";
        public List<Integer> devices = List.of();
        public int threads = 0;
        public String loss = "ssi";
        public double gradMatchWeight = 0.0;
        public int gradMatchScales = 4;
        public double retainWeight = 0.0;
        public Map<String, Double> lrMultipliers = new LinkedHashMap<>();
        public double silogLambda = 0.5;
        public double minDepth = 0.001;
        public boolean useFilled = false;
        public String valMetric = "val_loss";
        public int earlyStopping = 0;
        public int keepLast = 3;
        public String outputDir = "runs";
        public String runName;

        public TrainSection build() {
            return new TrainSection(this);
        }
    }
}
