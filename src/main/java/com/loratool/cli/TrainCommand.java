package com.loratool.cli;

import com.loratool.LoraException;
import com.loratool.api.Training;
import com.loratool.config.ConfigLoader;
import com.loratool.config.RunConfig;
import com.loratool.io.FolderLock;
import com.loratool.io.Interrupts;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code lora train}: fine-tune LoRA adapters on Depth Anything V2 as a config describes. */
@Command(name = "train", mixinStandardHelpOptions = true,
        description = {"Train LoRA adapters on a frozen Depth Anything V2.",
            "Writes runs/<name>/: config.yaml, split.json, metrics.csv, train.log, loss.png, checkpoints/, best/."},
        footer = {"", "Every config key: configs/README.md. Example:",
            "  lora train --config configs/smoke.yaml --set train.epochs=3"})
public final class TrainCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    CommonOptions common;

    @Option(names = {"-c", "--config"}, required = true, paramLabel = "FILE", description = "Run config (YAML).")
    Path config;

    @Option(names = "--set", paramLabel = "KEY=VALUE",
            description = "Override a config key, e.g. --set train.lr=3e-4 (repeatable).")
    List<String> sets = new ArrayList<>();

    @Option(names = "--devices", split = ",", paramLabel = "GPU",
            description = "Train data parallel on these GPUs, e.g. --devices 0,1 (train.devices): one model replica"
                    + " per GPU, each batch split across them.")
    List<Integer> devices;

    @Option(names = "--resume", description = "Continue the run from its last epoch checkpoint.")
    boolean resume;

    @Option(names = "--force", description = "Start over even if the run directory already has checkpoints.")
    boolean force;

    @Option(names = "--force-unlock",
            description = "Take over the run folder's lock even if another process (on any host) seems to hold it.")
    boolean forceUnlock;

    @Option(names = {"-q", "--quiet"}, description = "No progress bars; one log line per epoch.")
    boolean quiet;

    @Mixin
    MemoryCheckOption memory;

    @Option(names = "--dry-run", description = "Build the model and adapters, print the summary, do not train.")
    boolean dryRun;

    @Override
    public Integer call() {
        FolderLock.forceUnlock(forceUnlock);
        RunConfig cfg = ConfigLoader.load(config, sets);
        var pr = spec.commandLine().getParseResult();
        // the command line's overrides obey the config's rules too (the section checks each copy)
        if (pr.hasMatchedOption("--device")) {
            cfg = option("--device " + common.device.name(), cfg, "train.device", common.device.name());
        }
        if (pr.hasMatchedOption("--threads")) {
            cfg = option("--threads " + common.threads, cfg, "train.threads", common.threads);
        }
        if (devices != null) {
            cfg = option("--devices " + devices.stream().map(String::valueOf).collect(Collectors.joining(",")), cfg,
                    "train.devices", devices);
        }

        Training training = Training.of(cfg).resume(resume).force(force).quiet(quiet).memoryCheck(memory.enabled())
                .log(System.err);
        if (dryRun) {
            training.summary(spec.commandLine().getOut());
            return 0;
        }
        try {
            training.run();
        } catch (FolderLock.InUse held) {
            throw held.offering("--force-unlock");
        } catch (Interrupts.Interrupted stop) {
            List<String> again = new ArrayList<>(List.of("lora", "train", "--config", config.toString()));
            sets.forEach(s -> again.addAll(List.of("--set", s)));
            // the command line's own overrides too, as the sweep's line keeps them
            if (pr.hasMatchedOption("--device")) {
                again.addAll(List.of("--device", common.device.name()));
            }
            if (pr.hasMatchedOption("--threads")) {
                again.addAll(List.of("--threads", Integer.toString(common.threads)));
            }
            if (devices != null) {
                again.addAll(List.of("--devices", devices.stream().map(String::valueOf).collect(Collectors.joining(","))));
            }
            again.add("--resume");
            throw stop.withMessage(stop.getMessage() + "; continue with: " + ShellWords.line(again));
        }
        return 0;
    }

    /** {@code cfg} with {@code key} set from a command-line option; a refused value names the option. */
    private static RunConfig option(String shown, RunConfig cfg, String key, Object value) {
        try {
            return cfg.with(key, value);
        } catch (LoraException e) {
            throw new LoraException(shown + ": " + e.getMessage());
        }
    }
}
