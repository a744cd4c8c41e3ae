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
import com.loratool.config.RunFolder;
import com.loratool.data.Dataset;
import com.loratool.data.Pair;
import com.loratool.data.Pairing;
import com.loratool.io.Checksums;
import com.loratool.io.FolderLock;
import com.loratool.lora.AdapterCheckpoint;
import com.loratool.lora.LoraInjector;
import com.loratool.lora.LoraModel;
import com.loratool.model.BaseModel;
import com.loratool.model.Compute;
import com.loratool.model.DepthAnythingV2;
import com.loratool.model.MemoryCheck;
import com.loratool.model.ModelConfig;
import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

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
        BaseModel.checkLoss(cfg, w.config());
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

    /** Whether {@link #train} checks the training step's memory before starting (the CLI's --no-memory-check). */
    private boolean memoryCheck = true;

    private final List<TrainingListener> listeners = new ArrayList<>();

    /** Also tells {@code l} about the run (after the run's own listeners: files, progress, early stopping). */
    public TrainRun listener(TrainingListener l) {
        listeners.add(l);
        return this;
    }

    /** Set by {@link #reuse}: an opened data set and the base's host weights, instead of opening cfg's. */
    private Dataset dataset;
    private BaseModel.Weights baseWeights;

    /**
     * Trains on {@code data} (opened for cfg.data, possibly with another split) from
     * {@code weights} (read for cfg.model) instead of opening both again: {@code lora sweep}
     * decodes its images and reads the base once per process. Either may be null.
     */
    public TrainRun reuse(Dataset data, BaseModel.Weights weights) {
        this.dataset = data;
        this.baseWeights = weights;
        return this;
    }

    public TrainRun memoryCheck(boolean on) {
        this.memoryCheck = on;
        return this;
    }

    /**
     * Trains, owning the run folder for the whole run ({@link FolderLock}; a second run into the
     * same folder is refused). The run is checked first (no complete checkpoint to clobber, what
     * --resume continues matches, the step fits in memory, the data opens); nothing in the run
     * folder changes until then: config.yaml, split.json and the --force clean-up come after.
     */
    public Trainer.Result train(boolean resume, boolean force, boolean quiet) {
        BaseModel.checkLoss(cfg, BaseModel.declared(cfg.model)); // before anything is written
        Path runDir = cfg.runDir();
        boolean existed = Files.isDirectory(runDir);
        boolean accepted = false;
        FolderLock lock = FolderLock.acquire(runDir, "lora train");
        try {
            Checkpoints ckpts = new Checkpoints(runDir, cfg.train.keepLast);
            Path last = ckpts.latest();
            if (!resume && last != null && !force) {
                throw LoraException.file(runDir, "already holds a run; --resume continues it, --force starts over,"
                        + " or pick another name with --set train.run_name=...");
            }
            if (resume && last == null) {
                throw LoraException.file(runDir, "--resume: no complete checkpoint in this run folder (a run stopped"
                        + " before its first epoch ended leaves none); start it again without --resume");
            }
            Compute.setThreads(cfg.train.threads);
            List<Device> devices = Replicas.devices(cfg.train);
            try (NDManager manager = NDManager.newBaseManager(devices.get(0));
                    Replicas more = Replicas.on(devices.subList(1, devices.size()), cfg)) {
                BaseModel.Weights w = baseWeights;
                if (w == null) {
                    w = BaseModel.load(cfg.model, cfg.train.seed, cfg.source == null ? "" : cfg.source + ": ");
                }
                BaseModel.checkLoss(cfg, w.config());
                Base base = new Base(BaseModel.frozen(w, manager), w.config(), w.file());
                String sha = base.weights() == null ? RANDOM : Checksums.sha256(base.weights());
                JsonNode mc = new ObjectMapper().setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
                        .valueToTree(base.config());
                if (resume) {
                    ResumeCheck.check(cfg, runDir, last, AdapterCheckpoint.load(last).config(), sha, mc);
                }
                checkMemory(base.config());
                try (LoraModel lora = inject(base.model(), manager)) {
                    TrainingDataLoader.Opened data = dataset == null ? TrainingDataLoader.open(cfg)
                            : TrainingDataLoader.of(dataset);
                    // accepted: from here on the run folder is this run's
                    accepted = true;
                    if (!resume && force) {
                        Checkpoints.deleteTree(runDir.resolve("checkpoints"));
                        Checkpoints.deleteTree(ckpts.bestDir());
                    }
                    ckpts.removeLeftovers();
                    ConfigLoader.save(cfg, runDir.resolve(RunFolder.CONFIG_FILE));
                    data.dataset().writeSplit(runDir);
                    Trainer trainer = more.addTo(new Trainer(cfg, lora, base.model()::forward, manager, data.data(),
                            new Trainer.BaseWeights(cfg.model.weights, sha, mc),
                            new Trainer.Options(runDir, resume, quiet, console)));
                    listeners.forEach(trainer::addListener);
                    if (cfg.train.retainWeight > 0) {
                        try (NDManager refs = manager.newSubManager()) {
                            trainer.retain(RetainLoss.references(BaseModel.frozen(w, refs), data.data().train(), refs));
                        }
                    }
                    return trainer.run();
                }
            }
        } finally {
            lock.close();
            if (!existed && !accepted) {
                removeIfEmpty(runDir);
            }
        }
    }

    /** The adapters; a target matching nothing is an error naming the config file. */
    private LoraModel inject(DepthAnythingV2 model, NDManager manager) {
        try {
            return LoraInjector.inject(model, cfg.lora, cfg.train.seed, manager);
        } catch (LoraException e) {
            if (cfg.source != null && e.getMessage().startsWith("lora.")) {
                throw new LoraException(cfg.source + ": " + e.getMessage(), e);
            }
            throw e;
        }
    }

    /** A training step at the largest network size the run's images get, against the available memory. */
    private void checkMemory(ModelConfig mc) {
        if (!memoryCheck) {
            return;
        }
        List<Path> images = Files.isDirectory(cfg.data.rootPath())
                ? Pairing.pair(cfg.data).pairs().stream().map(Pair::image).toList() : List.of();
        MemoryCheck.require("train batch " + cfg.train.batchSize, cfg.data, images,
                MemoryCheck.training(mc, cfg.train.batchSize), true);
    }

    private static void removeIfEmpty(Path dir) {
        try (Stream<Path> s = Files.list(dir)) {
            if (s.findAny().isEmpty()) {
                Files.deleteIfExists(dir);
            }
        } catch (IOException e) {
            // left as it is: an empty folder is harmless
        }
    }
}
