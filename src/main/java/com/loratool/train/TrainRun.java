package com.loratool.train;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import com.loratool.LoraException;
import com.loratool.config.ConfigLoader;
import com.loratool.config.RunConfig;
import com.loratool.config.RunFolder;
import com.loratool.data.CameraIntrinsics;
import com.loratool.data.Dataset;
import com.loratool.data.IntrinsicsFit;
import com.loratool.data.Pair;
import com.loratool.data.Pairing;
import com.loratool.io.FolderLock;
import com.loratool.checkpoint.ModelResolver;
import com.loratool.checkpoint.ModelSource;
import com.loratool.checkpoint.ResolvedModel;
import com.loratool.io.Json;
import com.loratool.io.Interrupts;
import com.loratool.io.OutputGuard;
import com.loratool.lora.AdapterCheckpoint;
import com.loratool.lora.AdapterConfig;
import com.loratool.lora.LoraInjector;
import com.loratool.lora.LoraModel;
import com.loratool.model.Compute;
import com.loratool.model.DepthAnythingV2;
import com.loratool.model.MemoryCheck;
import com.loratool.train.loss.DepthLoss;
import com.loratool.model.ModelConfig;
import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
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

    /** The base model with its weights loaded and every parameter frozen, and what it was resolved from. */
    public record Base(DepthAnythingV2 model, ResolvedModel resolved) {
        public ModelConfig config() {
            return resolved.architecture();
        }
    }

    /** The run's base model ({@link ModelResolver}: weights file or seeded random weights), frozen, in {@code manager}. */
    public static Base loadBase(RunConfig cfg, NDManager manager) {
        return loadBase(cfg, manager, "train");
    }

    /** {@link #loadBase} for another command that trains Depth Anything V2 and 3 ({@code benchmark}), named in messages. */
    public static Base loadBase(RunConfig cfg, NDManager manager, String command) {
        return base(resolve(cfg, command), manager);
    }

    /** The run's model, V2 or Depth Anything 3 ({@link ModelResolver}); {@code command} names it in messages. */
    private static ResolvedModel resolve(RunConfig cfg, String command) {
        return ModelResolver.resolve(new ModelSource.Run(cfg), ModelResolver.Options.DEFAULT.runs(command, ModelResolver.Da3.ALL));
    }

    static Base base(ResolvedModel resolved, NDManager manager) {
        return new Base(resolved.frozenBase(manager), resolved);
    }

    /** Prints the adapter summary and adapted layers without training ({@code --dry-run}, {@code lora info --config}). */
    public void summary(PrintWriter out) {
        try (NDManager manager = NDManager.newBaseManager(Compute.device(cfg.train.device().name()))) {
            Base base = loadBase(cfg, manager);
            try (LoraModel lora = inject(base.model(), manager)) {
                out.println(lora.summary());
                out.println("adapted layers (" + lora.adaptedNames().size() + "):");
                for (String n : lora.adaptedNames()) {
                    out.println("  " + n);
                }
                out.flush();
            }
        }
    }

    /**
     * How to run ({@code lora train}'s flags; the API's {@code Training} builds one).
     *
     * @param resume continue from the newest epoch checkpoint
     * @param force start over in a folder that holds checkpoints
     * @param quiet no progress bars
     * @param memoryCheck refuse a step that would not fit in the available memory
     * @param listeners told about the run after the run folder's own listeners
     */
    public record Settings(boolean resume, boolean force, boolean quiet, boolean memoryCheck,
                           List<TrainingListener> listeners) {
        public Settings {
            listeners = List.copyOf(listeners);
        }

        public static Settings defaults() {
            return new Settings(false, false, false, true, List.of());
        }
    }

    /** Set by {@link #reuse}: an opened data set and the resolved base, instead of opening cfg's. */
    private Dataset dataset;
    private ResolvedModel reusedModel;
    /** Set by {@link #reuse}: a da3metric run's camera ({@link #da3MetricIntrinsics}), instead of fitting it again. */
    private CameraIntrinsics camera;

    /**
     * Trains on {@code data} (opened for cfg.data, possibly with another split) from
     * {@code model} (resolved for cfg.model) instead of opening both again: {@code lora sweep}
     * decodes its images and reads the base once per process. Either may be null.
     */
    public TrainRun reuse(Dataset data, ResolvedModel model) {
        this.dataset = data;
        this.reusedModel = model;
        return this;
    }

    /**
     * {@link #reuse(Dataset, ResolvedModel)} with the da3metric camera {@code camera} of cfg's data, fitted
     * once by the caller ({@link #da3MetricIntrinsics}; null for other models): {@code lora sweep} reads
     * the clouds once per data set, not once per cell.
     */
    public TrainRun reuse(Dataset data, ResolvedModel model, CameraIntrinsics camera) {
        reuse(data, model);
        this.camera = camera;
        return this;
    }

    /**
     * --force deletes the run's checkpoints/ and best/: a file the run reads from there (its base
     * weights, a config, an architecture YAML) would be destroyed before it is read again, so it is
     * refused in one line naming the file (docs/reliability.md, outputs vs inputs).
     */
    private void refuseDeletingInputs(Path runDir, Path bestDir) {
        List<Path> deleted = List.of(OutputGuard.real(runDir.resolve("checkpoints")), OutputGuard.real(bestDir));
        Map<String, Path> inputs = new LinkedHashMap<>(ModelResolver.files(new ModelSource.Run(cfg), "model.weights"));
        if (cfg.source != null) {
            inputs.put("--config", cfg.source);
        }
        for (Map.Entry<String, Path> in : inputs.entrySet()) {
            Path p = OutputGuard.real(in.getValue());
            for (Path d : deleted) {
                if (p.startsWith(d)) {
                    throw LoraException.file(in.getValue(), "is the " + in.getKey() + " of this run and lies in " + d
                            + ", which --force deletes; copy it out of the run folder first");
                }
            }
        }
    }

    /**
     * The camera of a da3metric run's training images, for its loss (metres = focal x output / 300,
     * the focal at the network's input): one pinhole fit over every XYZ cloud of the run's data, each
     * read once ({@link IntrinsicsFit#ofData}, what {@code lora data intrinsics} fits); null for other
     * models. Depth files that are Z maps (no X, Y), clouds of several resolutions, or random crops
     * (data.augment.crop_scale, crop_ratio: they change the focal per sample) are one line.
     * {@code progress}: the reading's progress bar (null: none).
     */
    public static CameraIntrinsics da3MetricIntrinsics(RunConfig cfg, ModelConfig model, PrintStream progress) {
        if (model == null || model.family() != ModelConfig.Family.DA3METRIC) {
            return null;
        }
        String w = cfg.source == null ? "" : cfg.source + ": ";
        String why = "da3metric training needs the camera's focal (metres = focal x output / 300)";
        if (cfg.data.augment().crops()) {
            throw new LoraException(w + "data.augment crop_scale/crop_ratio: " + why + ", which a random crop changes"
                    + " per sample; train da3metric without crops");
        }
        return IntrinsicsFit.ofData(cfg.data, why, progress);
    }

    /**
     * Trains, owning the run folder for the whole run ({@link FolderLock}; a second run into the
     * same folder is refused). The run is checked first (no complete checkpoint to clobber, what
     * --resume continues matches, the step fits in memory, the data opens); nothing in the run
     * folder changes until then: config.yaml, split.json and the --force clean-up come after.
     */
    public Trainer.Result train(Settings settings) {
        boolean resume = settings.resume();
        boolean force = settings.force();
        boolean quiet = settings.quiet();
        ResolvedModel resolved = reusedModel != null ? reusedModel : resolve(cfg, "train");
        cfg.checkLossFor(resolved.architecture().lossKind(), resolved.architectureFrom()); // once, before anything is written
        CameraIntrinsics intrinsics = camera != null ? camera // before anything is written too
                : da3MetricIntrinsics(cfg, resolved.architecture(), quiet ? null : System.err);
        Path runDir = cfg.runDir();
        boolean existed = Files.isDirectory(runDir);
        boolean accepted = false;
        FolderLock lock = FolderLock.acquire(runDir, "lora train");
        try {
            Checkpoints ckpts = new Checkpoints(runDir, cfg.train.keepLast());
            Path last = ckpts.latest();
            if (!resume && last != null && !force) {
                throw LoraException.file(runDir, "already holds a run; --resume continues it, --force starts over,"
                        + " or pick another name with --set train.run_name=...");
            }
            if (!resume && force) {
                refuseDeletingInputs(runDir, ckpts.bestDir());
            }
            if (resume && last == null) {
                throw LoraException.file(runDir, "--resume: no complete checkpoint in this run folder (a run stopped"
                        + " before its first epoch ended leaves none); start it again without --resume");
            }
            Compute.setThreads(cfg.train.threads());
            List<Device> devices = Replicas.devices(cfg.train);
            try (NDManager manager = NDManager.newBaseManager(devices.get(0));
                    Replicas more = Replicas.on(devices.subList(1, devices.size()), cfg, resolved)) {
                Base base = base(resolved, manager);
                String sha = resolved.provenance().sha256();
                JsonNode mc = Json.SNAKE.valueToTree(base.config());
                if (resume) {
                    AdapterConfig saved = AdapterCheckpoint.load(last).config();
                    ResumeCheck.check(cfg, runDir, last, saved, sha, mc);
                    if (ResumeCheck.nothingToTrain(cfg, runDir, saved.epoch())) {
                        // as many epochs as done: say so, change nothing (exit 0: the run is what was asked for)
                        TrainerState st = ckpts.load(last).state();
                        if (console != null) {
                            console.println("nothing to train: " + runDir + " has done its " + saved.epoch() + " of "
                                    + cfg.train.epochs() + " epochs (train.epochs); raise train.epochs to train more");
                        }
                        return new Trainer.Result(0, st.bestEpoch, st.bestValue, false, List.of());
                    }
                }
                try (LoraModel lora = inject(base.model(), manager)) {
                    if (settings.memoryCheck()) {
                        checkMemory(base.config(), lora);
                    }
                    TrainingDataLoader.Opened data = dataset == null ? TrainingDataLoader.open(cfg)
                            : TrainingDataLoader.of(dataset);
                    if (resume) {
                        ResumeCheck.checkSplit(runDir, data.dataset().split(), cfg.data.stripSuffixes()); // the same images, the same validation set
                    }
                    // accepted: from here on the run folder is this run's
                    accepted = true;
                    if (!resume && force) {
                        Checkpoints.deleteTree(runDir.resolve("checkpoints"));
                        Checkpoints.deleteTree(ckpts.bestDir());
                    }
                    ckpts.removeLeftovers();
                    ConfigLoader.save(cfg, runDir.resolve(RunFolder.CONFIG_FILE));
                    data.dataset().writeSplit(runDir);
                    Trainer trainer = more.addTo(new Trainer(cfg.train, lora, base.model()::forward, manager, data.data(),
                            DepthLoss.fromConfig(cfg.train, resolved.architecture(), intrinsics)));
                    if (cfg.train.retainWeight() > 0) {
                        try (NDManager refs = manager.newSubManager()) {
                            trainer.retain(RetainLoss.references(resolved.frozenBase(refs), data.data().train(), refs));
                        }
                    }
                    try (RunFolderListeners folder = new RunFolderListeners(runDir, cfg, lora,
                            new Trainer.BaseWeights(cfg.model.weights(), sha, mc), resume, quiet, console)) {
                        folder.attach(trainer, resume);
                        settings.listeners().forEach(trainer::addListener);
                        Trainer.Result r;
                        try (Interrupts.Scope coop = Interrupts.cooperate()) { // SIGTERM: stop at the next step
                            r = trainer.run();
                        }
                        folder.log().info("adapters in " + ckpts.bestDir());
                        return r;
                    }
                }
            }
        } finally {
            lock.close();
            if (!existed && !accepted) {
                removeIfEmpty(runDir);
            }
        }
    }

    /**
     * The adapters, with the lr_multipliers matched against their trainable names (as the optimiser
     * will: {@code --dry-run} refuses what training would); a target, train module or multiplier
     * key matching nothing is an error naming the config file.
     */
    private LoraModel inject(DepthAnythingV2 model, NDManager manager) {
        LoraModel lora = null;
        try {
            lora = LoraInjector.inject(model, cfg.lora, cfg.train.seed(), manager);
            AdapterOptimizer.lrScales(lora.trainableNames(), cfg.train.lrMultipliers());
            return lora;
        } catch (LoraException e) {
            if (lora != null) {
                lora.close();
            }
            if (cfg.source != null && (e.getMessage().startsWith("lora.") || e.getMessage().startsWith("train."))) {
                throw new LoraException(cfg.source + ": " + e.getMessage(), e);
            }
            throw e;
        }
    }

    /** A training step at the largest network size the run's images get, against the available memory. */
    private void checkMemory(ModelConfig mc, LoraModel lora) {
        List<Path> images = Files.isDirectory(cfg.data.rootPath())
                ? Pairing.pair(cfg.data).pairs().stream().map(Pair::image).toList() : List.of();
        MemoryCheck.require("train batch " + cfg.train.batchSize(), cfg.data.sizeRule(), images,
                memoryCost(mc, cfg.train.batchSize(), lora), true);
    }

    /** A step's cost: the activations, and the optimiser's arrays of every trained value (adapters, train_modules). */
    static MemoryCheck.Cost memoryCost(ModelConfig mc, int batch, LoraModel lora) {
        return MemoryCheck.training(mc, batch, lora.trainableCount());
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
