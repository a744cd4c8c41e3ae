package com.loratool.config;

import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The {@code train:} section: optimiser, schedule, loss, validation, checkpoints. Every key is
 * documented in configs/README.md. A missing or null key takes its default (set in the compact
 * constructor, next to the range it must lie in); the constructor is the one place the section is
 * checked. Change a copy with {@link Section#with} ({@code t.with("epochs", 3)}).
 *
 * @param optimizer adam | adamw. Default adam.
 * @param lr peak learning rate. Default 1e-4.
 * @param betas Adam's beta1, beta2. Default [0.9, 0.999].
 * @param eps Adam's epsilon. Default 1e-8.
 * @param weightDecay Adam: L2 added to the gradient (PyTorch Adam); AdamW: decoupled decay. Default 0.
 * @param schedule constant | cosine (both after the linear warm-up). Default constant.
 * @param warmupSteps optimiser steps of linear warm-up from 0 to lr. Default 0.
 * @param minLr the cosine schedule's final learning rate. Default 0.
 * @param clipGradNorm global-norm gradient clipping; 0 = off. Default 0.
 * @param gradAccum micro-batches accumulated per optimiser step. Default 1.
 * @param epochs passes over the training set. Default 25.
 * @param batchSize images per micro-batch. Default 4.
 * @param seed adapter initialisation, shuffling, dropout. Default 42.
 * @param device auto | cpu | gpu (the CLI's --device overrides). Default auto.
 * @param devices GPU indices for data-parallel training, one model replica per GPU, each batch
 *     split across them (the CLI's --devices overrides); empty = the one device of {@code device}.
 * @param threads PyTorch CPU threads, 0 = all cores (the CLI's --threads overrides). Default 0.
 * @param loss ssi | silog | l1 | mse (Depth Anything V2 relative models: on disparity, up to scale and shift) | depth_ssi (da3mono: scale-and-shift-invariant L1 on depth) |
 *     metric_silog (metric models, da3metric on focal x output / 300: the official SiLog on depth in metres, no alignment). Default ssi.
 * @param gradMatchWeight weight of the multi-scale gradient-matching term added to the ssi loss
 *     (MiDaS uses 0.5); 0 = off.
 * @param gradMatchScales scales of the gradient-matching term. Default 4.
 * @param retainWeight weight of the retention term: the scale-shift-invariant loss between the adapted
 *     prediction and the frozen base's on the same training image (base predictions computed once per
 *     image before training); 0 = off. Default 0.
 * @param lrMultipliers learning-rate factors of trainable parameters (for {@code lora.train_modules}) by
 *     {@link ModuleSelector} (the grammar of train_modules: a module or parameter name, or
 *     {@code re:<regex>} on whole names); the first match wins, everything else 1 (the official
 *     metric script trains the head at 10x). A key that matches no trainable parameter is an error.
 *     Default empty.
 * @param silogLambda SILog's lambda (silog and metric_silog). Default 0.5.
 * @param minDepth metric_silog: pixels whose true depth is below this many metres do not count
 *     (the upper bound is the model's max_depth). Default 0.001.
 * @param useFilled also use pixels whose depth was filled from a neighbour. Default false.
 * @param valMetric metric that picks best/ and drives early stopping: val_loss | abs_rel | delta1.
 * @param earlyStopping stop after this many epochs without improvement of val_metric; 0 = never.
 * @param keepLast epoch checkpoints kept (older ones deleted); best/ is kept apart. Default 3.
 * @param outputDir folder holding run directories. Default runs.
 * @param runName run directory name under output_dir; empty = the config file's name.
 */
public record TrainSection(
        @JsonProperty("optimizer") Optimizer optimizer,
        @JsonProperty("lr") Double lr,
        @JsonProperty("betas") List<Double> betas,
        @JsonProperty("eps") Double eps,
        @JsonProperty("weight_decay") Double weightDecay,
        @JsonProperty("schedule") Schedule schedule,
        @JsonProperty("warmup_steps") Integer warmupSteps,
        @JsonProperty("min_lr") Double minLr,
        @JsonProperty("clip_grad_norm") Double clipGradNorm,
        @JsonProperty("grad_accum") Integer gradAccum,
        @JsonProperty("epochs") Integer epochs,
        @JsonProperty("batch_size") Integer batchSize,
        @JsonProperty("seed") Long seed,
        @JsonProperty("device") Device device,
        @JsonProperty("devices") List<Integer> devices,
        @JsonProperty("threads") Integer threads,
        @JsonProperty("loss") Loss loss,
        @JsonProperty("grad_match_weight") Double gradMatchWeight,
        @JsonProperty("grad_match_scales") Integer gradMatchScales,
        @JsonProperty("retain_weight") Double retainWeight,
        @JsonProperty("lr_multipliers") Map<String, Double> lrMultipliers,
        @JsonProperty("silog_lambda") Double silogLambda,
        @JsonProperty("min_depth") Double minDepth,
        @JsonProperty("use_filled") Boolean useFilled,
        @JsonProperty("val_metric") ValMetric valMetric,
        @JsonProperty("early_stopping") Integer earlyStopping,
        @JsonProperty("keep_last") Integer keepLast,
        @JsonProperty("output_dir") String outputDir,
        @JsonProperty("run_name") String runName) implements Section<TrainSection> {

    /** The optimiser (YAML spelling). */
    public enum Optimizer { adam, adamw }

    /** The learning-rate schedule after the warm-up. */
    public enum Schedule { constant, cosine }

    /** Where training runs. */
    public enum Device { auto, cpu, gpu }

    /** The metric that picks best/: lower is better except for delta1. */
    public enum ValMetric { val_loss, abs_rel, delta1 }

    /** The training loss; {@link #metric} ones are for metric models only, the others for relative ones. */
    public enum Loss {
        ssi, silog, l1, mse, metric_silog, depth_ssi;

        /** A loss on metric depth (metres, no alignment), for metric models; else on relative depth. */
        public boolean metric() {
            return this == metric_silog;
        }

        /** The loss/model-kind rule for a Depth Anything V2 model: a metric loss for a metric model, a relative one for a relative model. */
        public boolean suits(boolean metricModel) {
            return this != depth_ssi && metric() == metricModel;
        }

        /**
         * The loss/model-kind rule: a V2 relative model (null too) takes ssi, silog, l1 or mse (on
         * disparity); a V2 metric model metric_silog; a da3mono model depth_ssi (on depth: its output
         * is depth, not disparity); a da3metric model metric_silog (on focal x output / 300).
         */
        public boolean suits(ModelKind kind) {
            if (kind == null) {
                kind = ModelKind.v2_relative;
            }
            return switch (kind) {
                case v2_relative -> suits(false);
                case v2_metric -> suits(true);
                case da3mono -> this == depth_ssi;
                case da3metric -> this == metric_silog;
            };
        }
    }

    /**
     * What a model outputs, for the loss rule ({@link Loss#suits(ModelKind)}; {@code
     * model.ModelConfig#lossKind} says which a model is): Depth Anything V2 relative (disparity),
     * V2 metric (metres), Depth Anything 3 da3mono (relative depth), da3metric (depth, metres with a focal).
     */
    public enum ModelKind {
        v2_relative, v2_metric, da3mono, da3metric;

        public boolean isDa3() {
            return this == da3mono || this == da3metric;
        }
    }

    /** Upper bounds: far beyond any sensible run, low enough that no size computed from them overflows. */
    static final int MAX_COUNT = 1_000_000;

    public TrainSection {
        optimizer = optimizer == null ? Optimizer.adam : optimizer;
        lr = Check.positive("train.lr", lr == null ? 1e-4 : lr, 10);
        betas = Check.list(betas, List.of(0.9, 0.999));
        Check.that(betas.size() == 2 && betas.stream().allMatch(b -> b != null && b >= 0 && b < 1),
                "train.betas", "must be two numbers in [0, 1)", betas);
        eps = Check.positive("train.eps", eps == null ? 1e-8 : eps, 1);
        weightDecay = Check.in("train.weight_decay", weightDecay == null ? 0.0 : weightDecay, 0, 1e3);
        schedule = schedule == null ? Schedule.constant : schedule;
        warmupSteps = Check.in("train.warmup_steps", warmupSteps == null ? 0 : warmupSteps, 0, 1_000_000_000);
        minLr = Check.in("train.min_lr", minLr == null ? 0.0 : minLr, 0, lr);
        clipGradNorm = Check.in("train.clip_grad_norm", clipGradNorm == null ? 0.0 : clipGradNorm, 0, 1e9);
        gradAccum = Check.in("train.grad_accum", gradAccum == null ? 1 : gradAccum, 1, 65536);
        epochs = Check.in("train.epochs", epochs == null ? 25 : epochs, 1, MAX_COUNT);
        batchSize = Check.in("train.batch_size", batchSize == null ? 4 : batchSize, 1, 65536);
        seed = seed == null ? 42L : seed;
        device = device == null ? Device.auto : device;
        devices = Check.list(devices, List.of());
        Check.that(devices.stream().allMatch(d -> d != null && d >= 0 && d < 65536)
                && devices.stream().distinct().count() == devices.size(),
                "train.devices", "must be distinct GPU indices >= 0", devices);
        if (!devices.isEmpty() && device == Device.cpu) {
            throw new ConfigError("train.devices", "GPU indices " + devices + " with train.device cpu; drop one of them");
        }
        threads = Check.in("train.threads", threads == null ? 0 : threads, 0, 65536);
        loss = loss == null ? Loss.ssi : loss;
        gradMatchWeight = Check.in("train.grad_match_weight", gradMatchWeight == null ? 0.0 : gradMatchWeight, 0, 1e6);
        gradMatchScales = Check.in("train.grad_match_scales", gradMatchScales == null ? 4 : gradMatchScales, 1, 16);
        retainWeight = Check.in("train.retain_weight", retainWeight == null ? 0.0 : retainWeight, 0, 1e6);
        lrMultipliers = Collections.unmodifiableMap(lrMultipliers == null ? new LinkedHashMap<>()
                : new LinkedHashMap<>(lrMultipliers));
        ModuleSelector.parseAll("train.lr_multipliers", lrMultipliers.keySet());
        for (Map.Entry<String, Double> e : lrMultipliers.entrySet()) {
            String key = "train.lr_multipliers." + e.getKey();
            Check.that(e.getValue() != null, key, "must be > 0", null);
            Check.positive(key, e.getValue(), 1e6);
        }
        silogLambda = Check.in("train.silog_lambda", silogLambda == null ? 0.5 : silogLambda, 0, 1);
        minDepth = Check.positive("train.min_depth", minDepth == null ? 0.001 : minDepth, 1e6);
        useFilled = useFilled != null && useFilled;
        valMetric = valMetric == null ? ValMetric.val_loss : valMetric;
        earlyStopping = Check.in("train.early_stopping", earlyStopping == null ? 0 : earlyStopping, 0, MAX_COUNT);
        keepLast = Check.in("train.keep_last", keepLast == null ? 3 : keepLast, 1, MAX_COUNT);
        outputDir = outputDir == null ? "runs" : outputDir;
    }

    /** All defaults. */
    public static TrainSection defaults() {
        return new TrainSection(null, null, null, null, null, null, null, null, null, null, null, null, null, null,
                null, null, null, null, null, null, null, null, null, null, null, null, null, null, null);
    }
}
