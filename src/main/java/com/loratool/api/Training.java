package com.loratool.api;

import com.loratool.config.ConfigLoader;
import com.loratool.config.RunConfig;
import com.loratool.train.TrainRun;
import com.loratool.train.Trainer;
import com.loratool.train.TrainingListener;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code lora train} for JVM code: a run description ({@link RunConfig}, read from YAML with
 * {@link #config} or built in code) trained into {@code <train.output_dir>/<run name>/}, exactly as
 * the command does (same files, checkpoints and resume).
 *
 * <pre>{@code
 * RunConfig run = Training.config(Path.of("configs/smoke.yaml"), List.of("train.epochs=2"));
 * Training.Result r = Training.of(run).quiet(true).run();
 * Path adapters = r.best();   // runs/smoke/best: adapter.safetensors + adapter_config.json
 * }</pre>
 */
public final class Training {
    private final RunConfig run;
    private boolean resume;
    private boolean force;
    private boolean quiet;
    private boolean memoryCheck = true;
    private final List<TrainingListener> listeners = new ArrayList<>();
    private PrintStream log = System.err;

    /** What a finished run left: its folder, best checkpoint, and the loop's summary. */
    public record Result(Path runDir, Path best, int epochsRun, int bestEpoch, double bestValue, boolean stoppedEarly) {}

    private Training(RunConfig run) {
        this.run = run;
    }

    /** A run config file with {@code key=value} overrides (as {@code --set}), resolved and validated. */
    public static RunConfig config(Path file, List<String> overrides) {
        return ConfigLoader.load(file, overrides);
    }

    public static Training of(RunConfig run) {
        return new Training(run);
    }

    /** Continue the run from its newest epoch checkpoint (as {@code --resume}). */
    public Training resume(boolean on) {
        this.resume = on;
        return this;
    }

    /** Start over in a run folder that already holds checkpoints (as {@code --force}). */
    public Training force(boolean on) {
        this.force = on;
        return this;
    }

    /** No progress bars; one log line per epoch. */
    public Training quiet(boolean on) {
        this.quiet = on;
        return this;
    }

    /** Refuse a run whose training step would not fit in the available memory (default on). */
    public Training memoryCheck(boolean on) {
        this.memoryCheck = on;
        return this;
    }

    /**
     * Follows the run: epochs, batches, validation, each epoch's metrics row (called after the
     * run's own listeners, on the training thread).
     */
    public Training listener(TrainingListener l) {
        listeners.add(l);
        return this;
    }

    /** Where progress and the per-epoch log go (default System.err). */
    public Training log(PrintStream out) {
        this.log = out;
        return this;
    }

    /** The adapter summary and the adapted layers, without training ({@code --dry-run}). */
    public void summary(PrintWriter out) {
        new TrainRun(run, log).summary(out);
    }

    public Result run() {
        Trainer.Result r = new TrainRun(run, log).train(new TrainRun.Settings(resume, force, quiet, memoryCheck, listeners));
        Path dir = run.runDir();
        return new Result(dir, dir.resolve("best"), r.epochsRun(), r.bestEpoch(), r.bestValue(), r.stoppedEarly());
    }
}
