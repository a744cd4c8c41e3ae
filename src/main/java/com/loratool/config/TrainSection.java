package com.loratool.config;

import java.util.List;
import java.util.Set;

/** The {@code train:} section: optimiser, schedule, loss, validation, checkpoints. Documented in configs/README.md. */
public class TrainSection {
    /** Losses on relative depth (disparity up to scale and shift): for relative models only. */
    public static final Set<String> RELATIVE_LOSSES = Set.of("ssi", "silog", "l1", "mse");
    /** Losses on metric depth (metres, no alignment): for metric models only. */
    public static final Set<String> METRIC_LOSSES = Set.of("metric_silog");

    /** adam | adamw. */
    public String optimizer = "adam";
    public double lr = 1e-4;
    public List<Double> betas = List.of(0.9, 0.999);
    public double eps = 1e-8;
    /** Adam: L2 added to the gradient (PyTorch Adam); AdamW: decoupled decay. */
    public double weightDecay = 0.0;
    /** constant | cosine (both after the linear warm-up). */
    public String schedule = "constant";
    /** Optimiser steps of linear warm-up from 0 to lr. */
    public int warmupSteps = 0;
    /** Cosine schedule's final learning rate. */
    public double minLr = 0.0;
    /** Global-norm gradient clipping; 0 = off. */
    public double clipGradNorm = 0.0;
    /** Micro-batches accumulated per optimiser step. */
    public int gradAccum = 1;
    public int epochs = 25;
    public int batchSize = 4;
    public long seed = 42;
    /** auto | cpu | gpu (the CLI's --device overrides). */
    public String device = "auto";
    /**
     * GPU indices for data-parallel training, one model replica per GPU, each batch split across
     * them (the CLI's --devices overrides); empty = the one device of {@code device}.
     */
    public List<Integer> devices = List.of();
    /** PyTorch CPU threads, 0 = all cores (the CLI's --threads overrides). */
    public int threads = 0;
    /**
     * ssi | silog | l1 | mse (relative models: on disparity, up to scale and shift) |
     * metric_silog (metric models: the official SiLog on depth in metres, no alignment).
     */
    public String loss = "ssi";
    /** Weight of the multi-scale gradient-matching term added to the ssi loss (MiDaS uses 0.5); 0 = off. */
    public double gradMatchWeight = 0.0;
    /** Scales of the gradient-matching term. */
    public int gradMatchScales = 4;
    /** SILog's lambda (silog and metric_silog). */
    public double silogLambda = 0.5;
    /** metric_silog: pixels whose true depth is below this many metres do not count (the upper bound is the model's max_depth). */
    public double minDepth = 0.001;
    /** Also use pixels whose depth was filled from a neighbour (default: only measured pixels). */
    public boolean useFilled = false;
    /** Metric that picks best/ and drives early stopping: val_loss | abs_rel | delta1. */
    public String valMetric = "val_loss";
    /** Stop after this many epochs without improvement of val_metric; 0 = never. */
    public int earlyStopping = 0;
    /** Epoch checkpoints kept (older ones deleted); best/ is kept apart. */
    public int keepLast = 3;
    /** Folder holding run directories. */
    public String outputDir = "runs";
    /** Run directory name under output_dir; empty = the config file's name. */
    public String runName;
}
