package com.loratool.cli;

import com.loratool.api.Evaluation;
import com.loratool.io.BatchFailures;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code lora eval}: did the adapters help? Metrics and pictures, LoRA against the original. */
@Command(name = "eval", mixinStandardHelpOptions = true,
        description = {"Evaluate a checkpoint's adapters against the original model on the same images: metrics "
                + "(AbsRel, SqRel, RMSE, RMSE(log), log10, delta1-3, SILog after per-image scale-and-shift alignment "
                + "in disparity, in depth for Depth Anything 3; for a metric model first without any alignment, in mm, "
                + "da3metric's metres = focal x output / 300 with the focal fitted to the data's XYZ clouds; "
                + "docs/eval.md) and one picture "
                + "per image.",
            "Writes metrics.json, metrics.csv, report.md and panels/<image>.png. The original's predictions are "
                + "cached per weights file and input size ($LORA_CACHE/predictions or ~/.cache/lora/predictions).",
            "A pair that cannot be read or predicted is left out: the metrics are over the others, report.md, "
                + "metrics.json and metrics.csv list it with the reason, stderr too, and the exit code is 1 "
                + "(--fail-fast: stop at it, exit 2, nothing written)."})
public final class EvalCommand implements Callable<Integer> {

    @Option(names = "--data", paramLabel = "DIR",
            description = "Data folder laid out like the run's (its images_dir/ and depth_dir/). Default: the run's "
                    + "data.root.")
    Path data;

    @Option(names = "--set", paramLabel = "data.KEY=VALUE",
            description = "Override a data key of the run, e.g. --set data.images_dir=rgb (repeatable).")
    List<String> sets = new ArrayList<>();

    @Option(names = "--split", defaultValue = "val", paramLabel = "val|train|all",
            description = "Which images of the run's split.json. Default: ${DEFAULT-VALUE}.")
    String split;

    @Option(names = "--output", paramLabel = "DIR", description = "Report folder. Default: <run>/eval (eval-alpha<S> with --alpha-scale).")
    Path output;

    @Option(names = "--alpha-scale", defaultValue = "1", paramLabel = "S",
            description = "Scale the adapters' strength (0 = the original model). Default: ${DEFAULT-VALUE}.")
    double alphaScale;

    @Option(names = "--compare", arity = "1..*", paramLabel = "CHECKPOINT",
            description = "More checkpoints (or run folders) to put in one table with --checkpoint.")
    List<Path> compare = new ArrayList<>();

    @Option(names = "--error-maps", description = "Add |error| maps of both models under each picture.")
    boolean errorMaps;

    @Option(names = "--no-pictures", description = "Only metrics, no panel pictures.")
    boolean noPictures;

    @Option(names = "--no-cache", description = "Recompute the original model's predictions.")
    boolean noCache;

    @Option(names = "--cache-dir", paramLabel = "DIR",
            description = "Where the original's predictions are cached. Default: $LORA_CACHE/predictions or ~/.cache/lora/predictions.")
    Path cacheDir;

    @Mixin
    MemoryCheckOption memory;

    @Mixin
    ModelOptions model;

    @Mixin
    ModelOptions.InputSize inputSize;

    @Mixin
    CommonOptions common;

    @Mixin
    FailFastOption failFast;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        Evaluation.Report report = Evaluation.of(model.checkpoint("lora eval")).compare(compare).data(data).set(sets).split(split).output(output)
                .alphaScale(alphaScale).weights(model.weights()).modelConfig(model.modelConfig())
                .inputSize(inputSize.value())
                .errorMaps(errorMaps).pictures(!noPictures).memoryCheck(memory.enabled()).cache(!noCache).cacheDir(cacheDir)
                .device(common.device.name()).threads(common.threads).failFast(failFast.enabled())
                .log(spec.commandLine().getOut())
                .run();
        return BatchFailures.finish("eval", report.pairs(), report.leftOut(), spec.commandLine().getErr());
    }
}
