package com.loratool.cli;

import com.loratool.LoraException;
import com.loratool.bench.BenchGrid;
import com.loratool.bench.BenchReport;
import com.loratool.bench.BenchResult;
import com.loratool.bench.BenchRunner;
import com.loratool.bench.BenchSettings;
import com.loratool.bench.MachineInfo;
import com.loratool.bench.PeerBaseline;
import com.loratool.bench.ResultWriters;
import com.loratool.bench.Workloads;
import com.loratool.io.AtomicFiles;
import com.loratool.io.MemoryBudget;
import com.loratool.checkpoint.ModelResolver;
import com.loratool.checkpoint.ModelSource;
import com.loratool.config.ConfigLoader;
import com.loratool.config.RunConfig;
import com.loratool.io.OutputGuard;
import com.loratool.model.MemoryCheck;
import com.loratool.model.MemoryEstimate;
import com.loratool.model.ModelConfig;
import com.loratool.train.ProcessMemory;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.stream.Stream;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code lora benchmark}: training and inference timings over a grid of settings. */
@Command(name = "benchmark", mixinStandardHelpOptions = true,
        description = {"Times LoRA training and inference over a grid of settings (batch, image size, images, targets)",
            "and writes results.csv, results.json, results.md (the study's table) and results.png to --output.",
            "Each combination: untimed warm-up epochs until two consecutive ones agree within 5 %% (2 to 5),",
            "--measure-epochs timed epochs, projected to --epochs;",
            "then inference with merged adapters. See docs/benchmark.md."})
public final class BenchmarkCommand implements Callable<Integer> {
    @Option(names = "--config", paramLabel = "FILE",
            description = "Run config (model, lora, train sections); optional with --synthetic.")
    Path config;

    @Option(names = "--grid", defaultValue = "study", paramLabel = "GRID",
            description = {"Axes separated by ';', values by ',' (targets: by '|'); grids joined by '+'.",
                "Axes: batch, scale, size (HxW), images, targets, rank, arch.",
                "arch: a preset (vits, vitb, vitl, vits-metric-indoor, ..., da3mono-large,",
                "da3metric-large) or config; each trains with a loss of its kind.",
                "'study' = the original study's five configurations. Default: ${DEFAULT-VALUE}.",
                "Example: \"batch=4,8; scale=10,12; images=11,29; targets=qkv|qkv,linear\""})
    String grid;

    @Option(names = "--epochs", defaultValue = "25", description = "Epochs the time is projected to. Default: ${DEFAULT-VALUE}.")
    int epochs;

    @Option(names = "--measure-epochs", defaultValue = "2", description = "Timed epochs per combination (after the warm-up epochs). Default: ${DEFAULT-VALUE}.")
    int measureEpochs;

    @Option(names = "--synthetic", description = "Random images, depth and weights of the right shapes: no data or weights needed (architecture still real, vits unless the config or grid says otherwise).")
    boolean synthetic;

    @Option(names = "--no-inference", description = "Skip the inference timing.")
    boolean noInference;

    @Option(names = "--baseline", paramLabel = "FILE.jsonl", description = "PyTorch peer figures (lines of peer_train.py) to compare with.")
    Path baseline;

    @Option(names = "--profile", description = "Also profile one training epoch and one inference pass per combination (PyTorch profiler): profile.md and Chrome traces in --output.")
    boolean profile;

    @Option(names = "--engine", defaultValue = "libtorch", split = ",", paramLabel = "ENGINE",
            description = "Inference engine(s) timed: libtorch, onnxruntime (the merged model exported to ONNX, fixed "
                    + "size, fp32), or both comma-separated; the first fills the inference column, all go to "
                    + "inference-engines.csv. Default: ${DEFAULT-VALUE}.")
    List<String> engine;

    @Option(names = "--output", required = true, paramLabel = "DIR", description = "Folder for the results files.")
    Path output;

    @Mixin
    CommonOptions common;

    @Spec
    CommandSpec spec;

    @Mixin
    MemoryCheckOption memory;

    /** The memory estimate that guards predict and train, for each combination of an official architecture. */
    private void checkMemory(List<BenchSettings> combos) {
        if (!memory.enabled()) {
            return;
        }
        for (BenchSettings c : combos) {
            if (!ModelConfig.isPreset(c.arch())) {
                continue; // the config's own architecture: known once loaded; its sizes come from its data
            }
            ModelConfig mc = ModelConfig.preset(c.arch());
            long bytes = Math.max(MemoryEstimate.training(mc, c.height(), c.width(), c.batch()),
                    MemoryEstimate.inference(mc, c.height(), c.width(), c.batch()));
            MemoryBudget.require("benchmark " + c.arch() + " at " + c.width() + "x" + c.height() + ", batch " + c.batch(),
                    bytes, MemoryCheck.OVERRIDE);
        }
    }

    @Override
    public Integer call() {
        // every file it reads: the config and the model and data it names, the peer figures; and the files it writes
        OutputGuard guard = OutputGuard.ofFolder("--output", output).input("--config", config).input("--baseline", baseline)
                .outputFiles("--output", Stream.concat(ResultWriters.FILES.stream(), Stream.of("inference-engines.csv"))
                        .map(output::resolve).toList());
        if (config != null && !synthetic) {
            RunConfig run = ConfigLoader.load(config, List.of());
            guard.inputs(ModelResolver.files(new ModelSource.Run(run), "--config's"))
                    .input("--config's data.root", run.data == null || run.data.root() == null ? null : run.data.rootPath());
        }
        guard.check();
        BenchGrid g = BenchGrid.parse(grid);
        if (config == null && !synthetic) {
            throw new LoraException("benchmark: give --config FILE, or --synthetic to run without data and weights");
        }
        PeerBaseline peers = baseline == null ? null : PeerBaseline.read(baseline);
        double loadAvg = MachineInfo.loadAverage();
        try (Workloads.Setup setup = Workloads.create(config, synthetic, common.device.name(), common.threads)) {
            BenchSettings base = setup.baseSettings();
            List<BenchSettings> combos = g.combinations(base);
            checkMemory(combos); // before any combination allocates its synthetic data or activations
            System.err.printf("benchmark: %d combination(s) on %s, %d thread(s)%s%n", combos.size(), setup.device(),
                    setup.threads(), synthetic ? ", synthetic data" : "");
            setup.prepare(combos);
            System.gc();
            double rssStart = ProcessMemory.currentMb();
            BenchRunner runner = new BenchRunner(setup, epochs, measureEpochs, !noInference, peers, System.err)
                    .onDevice(setup.device()).engines(engine);
            if (profile) {
                runner.profileTo(output);
            }
            List<BenchResult> results = runner.run(combos);
            System.gc();
            double rssEnd = ProcessMemory.currentMb();
            BenchReport report = new BenchReport(results, MachineInfo.describe(), setup.device(), setup.threads(), synthetic,
                    loadAvg, Instant.now().truncatedTo(ChronoUnit.SECONDS).toString(), rssStart, rssEnd);
            ResultWriters.writeAll(report, output);
            if (!noInference) {
                AtomicFiles.writeString(output.resolve("inference-engines.csv"), "combination,arch,batch,size,targets,"
                        + "engine,infer_images_per_s,infer_pct_of_peak,merge_s\n" + String.join("\n", runner.engineRows()) + "\n");
            }
            spec.commandLine().getOut().print(ResultWriters.markdown(report));
            spec.commandLine().getOut().flush();
            System.err.println("benchmark: wrote " + String.join(", ", ResultWriters.FILES) + " to " + output);
        }
        return 0;
    }
}
