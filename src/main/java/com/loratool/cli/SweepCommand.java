package com.loratool.cli;

import com.loratool.api.Sweep;
import com.loratool.io.Interrupts;
import com.loratool.sweep.SweepRunner;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code lora sweep}: choose a configuration by k-fold cross-validation over a grid. */
@Command(name = "sweep", mixinStandardHelpOptions = true,
        description = {"Train and evaluate every combination of a grid under k-fold cross-validation.",
            "Writes <output>/: results.md (ranked, 95%% t-intervals), results.csv/json (every fold), sweep.png,",
            "best.yaml (the winner, for lora train), cells/ (finished cells, kept on a rerun), runs/."},
        footer = {"", "Grid: key=values axes joined by ';', alternatives by ',' (or '|' when values hold commas),",
            "grids joined by '+'. Example:",
            "  lora sweep --config configs/smoke-pretrained.yaml --grid \"lora.r=4,8; train.lr=3e-4,1e-3\" --folds 3 \\",
            "      --output sweeps/first",
            "Depth Anything V2 and 3 bases (e.g. configs/da3mono-qkv-r8.yaml): each cell",
            "is scored as lora eval does: V2 relative aligned in disparity, da3mono's depth",
            "aligned to Z, metric models in absolute mm (da3metric: focal x output / 300,",
            "the focal fitted to the data's XYZ clouds). See docs/sweep.md."})
public final class SweepCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    CommonOptions common;

    @Option(names = {"-c", "--config"}, required = true, paramLabel = "FILE", description = "Base run config (YAML).")
    Path config;

    @Option(names = "--grid", required = true, paramLabel = "GRID",
            description = "Combinations, e.g. \"lora.r=4,8,16; lora.targets=[qkv]|[qkv,proj]; train.lr=1e-4,3e-4\".")
    String grid;

    @Option(names = "--folds", defaultValue = "5", paramLabel = "K",
            description = "k-fold cross-validation over the pairs (1 = the run's own split). Default: ${DEFAULT-VALUE}.")
    int folds;

    @Option(names = "--retention", paramLabel = "DIR",
            description = "Also evaluate every combination and the frozen base on this data folder (images/ + depth/).")
    Path retention;

    @Option(names = {"-o", "--output"}, required = true, paramLabel = "DIR", description = "Sweep folder, e.g. sweeps/first.")
    Path output;

    @Option(names = "--set", paramLabel = "KEY=VALUE", description = "Override a base config key for every cell (repeatable).")
    List<String> sets = new ArrayList<>();

    @Option(names = "--yes", description = "Run a grid of more than 200 cells (combinations x folds).")
    boolean yes;

    @Option(names = {"-q", "--quiet"}, description = "No progress bar; one line per cell.")
    boolean quiet;

    @Override
    public Integer call() {
        var pr = spec.commandLine().getParseResult();
        List<String> all = new ArrayList<>(sets);
        if (pr.hasMatchedOption("--device")) {
            all.add("train.device=" + common.device.name());
        }
        if (pr.hasMatchedOption("--threads")) {
            all.add("train.threads=" + common.threads);
        }
        SweepRunner.Outcome o;
        try {
            o = Sweep.of(config).set(all).grid(grid).folds(folds).retention(retention).output(output)
                    .yes(yes).quiet(quiet).log(System.err).run();
        } catch (Interrupts.Interrupted stop) {
            throw stop.withMessage(stop.getMessage() + "; continue with: " + continueCommand(all));
        }
        var out = spec.commandLine().getOut();
        out.println("results: " + o.output().resolve("results.md"));
        if (o.bestYaml() != null) {
            out.println("best: " + o.bestYaml() + " (lora train --config " + o.bestYaml() + ")");
        } else {
            out.println("no combination finished every fold; see results.md");
        }
        out.flush();
        return 0;
    }

    /** The same sweep again (same arguments, so the finished cells are kept); shell-quoted where needed. */
    private String continueCommand(List<String> sets) {
        List<String> a = new ArrayList<>(List.of("lora", "sweep", "--config", config.toString()));
        for (String s : sets) {
            a.add("--set");
            a.add(s);
        }
        a.addAll(List.of("--grid", grid, "--folds", Integer.toString(folds)));
        if (retention != null) {
            a.add("--retention");
            a.add(retention.toString());
        }
        a.add("--output");
        a.add(output.toString());
        if (yes) {
            a.add("--yes");
        }
        if (quiet) {
            a.add("-q");
        }
        return ShellWords.line(a);
    }
}
