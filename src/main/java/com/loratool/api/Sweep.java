package com.loratool.api;

import com.loratool.sweep.SweepRunner;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;

/**
 * {@code lora sweep} for JVM code: every combination of a grid trained and evaluated under k-fold
 * cross-validation (and on a retention set), ranked with 95 % t-intervals, into one folder:
 * results.md/csv/json, sweep.png, best.yaml, cells/, runs/.
 *
 * <pre>{@code
 * SweepRunner.Outcome o = Sweep.of(Path.of("configs/smoke-pretrained.yaml"))
 *         .grid("lora.r=4,8; train.lr=1e-4,1e-3").folds(5).output(Path.of("sweeps/first")).run();
 * Path winner = o.bestYaml();   // ready for Training.config(winner, List.of())
 * }</pre>
 */
public final class Sweep {
    private final Path config;
    private List<String> sets = List.of();
    private String grid = "";
    private int folds = 5;
    private Path retention;
    private Path output;
    private boolean yes;
    private boolean quiet;
    private PrintStream log = System.err;

    private Sweep(Path config) {
        this.config = config;
    }

    /** The base run config every combination starts from. */
    public static Sweep of(Path config) {
        return new Sweep(config);
    }

    /** {@code key=value} overrides of the base config for every cell (as {@code --set}). */
    public Sweep set(List<String> overrides) {
        this.sets = List.copyOf(overrides);
        return this;
    }

    /** The grid: {@code "lora.r=4,8; lora.targets=[qkv]|[qkv,proj]"} (the benchmark's syntax, any config key). */
    public Sweep grid(String g) {
        this.grid = g;
        return this;
    }

    /** k of k-fold cross-validation (1: the run's own validation split). Default 5. */
    public Sweep folds(int k) {
        this.folds = k;
        return this;
    }

    /** Also evaluate every combination and the frozen base on this data folder. */
    public Sweep retention(Path dir) {
        this.retention = dir;
        return this;
    }

    public Sweep output(Path dir) {
        this.output = dir;
        return this;
    }

    /** Run a grid of more than 200 cells. */
    public Sweep yes(boolean on) {
        this.yes = on;
        return this;
    }

    /** No progress bar; one line per cell. */
    public Sweep quiet(boolean on) {
        this.quiet = on;
        return this;
    }

    public Sweep log(PrintStream out) {
        this.log = out;
        return this;
    }

    public SweepRunner.Outcome run() {
        Path out = output != null ? output : Path.of("sweeps", name(config));
        return new SweepRunner(new SweepRunner.Options(config, sets, grid, folds, retention, out, yes, quiet, log)).run();
    }

    private static String name(Path config) {
        String n = config.getFileName().toString();
        int dot = n.lastIndexOf('.');
        return dot > 0 ? n.substring(0, dot) : n;
    }
}
