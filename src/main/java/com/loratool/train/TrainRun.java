package com.loratool.train;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.loratool.LoraException;
import com.loratool.config.ConfigLoader;
import com.loratool.config.ModelSection;
import com.loratool.config.RunConfig;
import com.loratool.io.Checksums;
import com.loratool.io.HostTensor;
import com.loratool.lora.LoraInjector;
import com.loratool.lora.LoraModel;
import com.loratool.model.BaseModel;
import com.loratool.model.Compute;
import com.loratool.model.DepthAnythingV2;
import com.loratool.model.ModelConfig;
import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * One {@code lora train} invocation: run directory, data, base model, adapters, {@link Trainer}.
 */
public final class TrainRun {
    private final RunConfig cfg;
    private final PrintStream console;

    public TrainRun(RunConfig cfg, PrintStream console) {
        this.cfg = cfg;
        this.console = console;
    }

    /** The base model with its weights loaded and every parameter frozen. */
    public record Base(DepthAnythingV2 model, ModelConfig config, Path weights) {}

    /** {@code model.weights: random}: seeded random initialisation (smoke tests, benchmarks). */
    public static final String RANDOM = ModelSection.RANDOM;

    /** The run's base model ({@link BaseModel}: weights file or seeded random weights), frozen, in {@code manager}. */
    public static Base loadBase(RunConfig cfg, NDManager manager) {
        BaseModel.Weights w = BaseModel.load(cfg.model, cfg.train.seed, cfg.source == null ? "" : cfg.source + ": ");
        return new Base(BaseModel.frozen(w, manager), w.config(), w.file());
    }

    /** Prints the adapter summary and adapted layers without training ({@code --dry-run}, {@code lora info --config}). */
    public void summary(PrintWriter out) {
        try (NDManager manager = NDManager.newBaseManager(Compute.device(cfg.train.device))) {
            Base base = loadBase(cfg, manager);
            try (LoraModel lora = LoraInjector.inject(base.model(), cfg.lora, cfg.train.seed, manager)) {
                out.println(lora.summary());
                out.println("adapted layers (" + lora.adaptedNames().size() + "):");
                for (String n : lora.adaptedNames()) {
                    out.println("  " + n);
                }
                out.flush();
            }
        }
    }

    public Trainer.Result train(boolean resume, boolean force, boolean quiet) {
        Path runDir = cfg.runDir();
        Path checkpoints = runDir.resolve("checkpoints");
        if (!resume && Files.isDirectory(checkpoints) && !force) {
            throw LoraException.file(runDir, "already holds a run; --resume continues it, --force starts over,"
                    + " or pick another name with --set train.run_name=...");
        }
        if (resume && !Files.isDirectory(checkpoints)) {
            throw LoraException.file(runDir, "--resume: no checkpoints in this run directory");
        }
        if (!resume && force) {
            Checkpoints.deleteTree(checkpoints);
            Checkpoints.deleteTree(runDir.resolve("best"));
        }
        try {
            Files.createDirectories(runDir);
        } catch (IOException e) {
            throw LoraException.file(runDir, "cannot create run directory: " + e.getMessage());
        }
        Compute.setThreads(cfg.train.threads);
        ConfigLoader.save(cfg, runDir.resolve("config.yaml"));
        TrainingData data = TrainingDataLoader.load(cfg, runDir);
        List<Device> devices = Replicas.devices(cfg.train);
        try (NDManager manager = NDManager.newBaseManager(devices.get(0));
                Replicas more = Replicas.on(devices.subList(1, devices.size()), cfg)) {
            Base base = loadBase(cfg, manager);
            String sha = base.weights() == null ? RANDOM : Checksums.sha256(base.weights());
            JsonNode mc = new ObjectMapper().setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
                    .valueToTree(base.config());
            try (LoraModel lora = LoraInjector.inject(base.model(), cfg.lora, cfg.train.seed, manager)) {
                Trainer trainer = more.addTo(new Trainer(cfg, lora, base.model()::forward, manager, data,
                        new Trainer.BaseWeights(cfg.model.weights, sha, mc),
                        new Trainer.Options(runDir, resume, quiet, console)));
                return trainer.run();
            }
        }
    }
}
