package com.loratool.checkpoint;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import com.loratool.LoraException;
import com.loratool.config.DataConfig;
import com.loratool.config.ModelSection;
import com.loratool.config.RunConfig;
import com.loratool.config.RunFolder;
import com.loratool.config.SizeRule;
import com.loratool.config.TrainSection;
import com.loratool.data.Preprocessing;
import com.loratool.io.HostTensor;
import com.loratool.lora.AdapterCheckpoint;
import com.loratool.lora.export.AdaptedWeights;
import com.loratool.model.Da3Checkpoint;
import com.loratool.model.DepthAnythingV2;
import com.loratool.model.HfConfig;
import com.loratool.model.ModelConfig;
import com.loratool.model.RandomWeights;
import com.loratool.model.nn.Parameter;
import com.loratool.model.weights.StateDicts;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * The one model loader: any {@link ModelSource} to a {@link ResolvedModel}. Train, eval, predict,
 * export, info, doctor, eval-completion and the benchmark get their model here.
 *
 * <p>The architecture: an explicit choice ({@code --model-config}, a checkpoint's recorded
 * {@code model_config}), else the run's {@code model.preset}, else its {@code model.config}, else
 * from the weights themselves ({@link ModelConfig#forWeights}: a Hugging Face config.json, the
 * shapes, the official metric file names), so a metric .pth or HF folder loads as metric.
 *
 * <p>The preprocessing: base weights predict as the official {@code infer_image} (keep-aspect,
 * shorter side 518 or {@code --input-size}); a checkpoint inside a run folder as its run was
 * trained (the run's {@code data:} size rule and interpolation; {@code --input-size} replaces the
 * size rule); a checkpoint outside a run folder as base weights.
 */
public final class ModelResolver {
    private ModelResolver() {}

    /**
     * What a command may change about how the model sees images.
     *
     * @param inputSize {@code --input-size}: the official rule at this size instead of the default; may be null
     * @param data the data settings a checkpoint is evaluated with (eval's {@code --data}/{@code --set});
     *     its size rule and interpolation win; may be null
     */
    /**
     * @param command the command resolving, for messages ({@code train}); may be null
     * @param da3 the command runs Depth Anything 3 models (predict, info); the others refuse one in
     *     one line, so that no DA3 model goes silently through V2's disparity pipelines
     */
    public record Options(Integer inputSize, DataConfig data, String command, boolean da3) {
        public static final Options DEFAULT = new Options(null, null);

        public Options(Integer inputSize, DataConfig data) {
            this(inputSize, data, null, false);
        }

        public static Options inputSize(Integer n) {
            return new Options(n, null);
        }

        /** These options for {@code command} (named in the refusal of a Depth Anything 3 model). */
        public Options command(String name) {
            return new Options(inputSize, data, name, da3);
        }

        /**
         * True where LoRA checkpoints and run descriptions on a Depth Anything 3 base resolve: lora train
         * (--resume, its validation), lora eval, lora sweep and lora benchmark.
         */
        public boolean da3Checkpoints() {
            return da3 && ("train".equals(command) || "eval".equals(command) || "sweep".equals(command) || "benchmark".equals(command));
        }

        /** These options for {@code command}, which runs Depth Anything 3 models (predict, info, train, eval). */
        public Options da3Ready(String name) {
            return new Options(inputSize, data, name, true);
        }
    }

    public static ResolvedModel resolve(ModelSource source) {
        return resolve(source, Options.DEFAULT);
    }

    public static ResolvedModel resolve(ModelSource source, Options options) {
        if (options.inputSize() != null) {
            SizeRule.lowerBound(options.inputSize()); // refuses < 14 before anything is read
        }
        if (source instanceof ModelSource.Weights w) {
            return weights(w, options);
        }
        if (source instanceof ModelSource.Checkpoint c) {
            return checkpoint(c, options);
        }
        return run(((ModelSource.Run) source).run(), options);
    }

    /**
     * Every file resolving {@code source} reads, labelled for messages, for {@code io.OutputGuard}
     * before any work: the weights or the checkpoint folder, the base weights a checkpoint records
     * (located as {@link #resolve} locates them: through the run folder's parents), its run's
     * {@code config.yaml} and {@code split.json}, the architecture YAMLs and a Hugging Face
     * {@code config.json} beside the weights. Reads the checkpoint and the run config, no base tensors.
     * Paths that do not exist are listed too (the guard skips them).
     *
     * @param who how the user named the source, e.g. {@code --checkpoint} or {@code --compare runs/b/best}
     */
    public static LinkedHashMap<String, Path> files(ModelSource source, String who) {
        LinkedHashMap<String, Path> out = new LinkedHashMap<>();
        if (source instanceof ModelSource.Weights w) {
            put(out, who, w.file());
            put(out, "--model-config", w.modelConfig());
            put(out, who + "'s Hugging Face config", w.file() == null ? null : HfConfig.besides(w.file()).orElse(null));
        } else if (source instanceof ModelSource.Checkpoint c) {
            put(out, who, c.dir());
            AdapterCheckpoint ck = AdapterCheckpoint.load(c.dir());
            Path base = ck.baseFile(c.weightsOverride());
            String baseName = c.weightsOverride() != null ? "--weights" : who + "'s base weights";
            put(out, baseName, base);
            put(out, baseName + "' Hugging Face config", base == null || !Files.exists(base) ? null
                    : HfConfig.besides(base).orElse(null));
            put(out, "--model-config", c.modelConfig());
            RunFolder run = RunFolder.of(c.dir());
            if (run.exists()) {
                put(out, who + "'s run config", run.dir().resolve(RunFolder.CONFIG_FILE));
                put(out, who + "'s split", run.splitJson());
                put(out, who + "'s model.config", run.config().model.config() == null ? null
                        : Path.of(run.config().model.config()));
            }
        } else {
            ModelSection m = ((ModelSource.Run) source).run().model;
            Path file = m.weights() == null || m.randomWeights() ? null : Path.of(m.weights());
            put(out, who + " model.weights", file);
            put(out, who + " model.config", m.config() == null ? null : Path.of(m.config()));
            put(out, who + " model.weights' Hugging Face config", file == null || !Files.exists(file) ? null
                    : HfConfig.besides(file).orElse(null));
        }
        return out;
    }

    private static void put(Map<String, Path> out, String label, Path p) {
        if (p != null) {
            out.putIfAbsent(label, p);
        }
    }

    /**
     * The architecture as far as it is known without reading any tensor (the preset, the
     * model.yaml, the HF config.json beside the weights, the metric preset an official metric file
     * name stands for); null when only the shapes can tell (then it is a relative model).
     */
    public static ModelConfig declared(ModelSection model) {
        ModelConfig c = fromSection(model);
        if (c != null || model.weights() == null || model.randomWeights()) {
            return c;
        }
        Path file = Path.of(model.weights());
        if (Files.exists(file)) {
            Optional<Path> hf = HfConfig.besides(file);
            if (hf.isPresent()) {
                return HfConfig.read(hf.get());
            }
        }
        return ModelConfig.officialMetricPreset(file).map(ModelConfig::preset).orElse(null);
    }

    /** Seeded random weights for every parameter of {@code mc} ({@link RandomWeights}). */
    public static LinkedHashMap<String, HostTensor> randomWeights(ModelConfig mc, long seed) {
        Map<String, long[]> shapes = new LinkedHashMap<>();
        try (NDManager m = NDManager.newBaseManager(Device.cpu())) {
            for (Map.Entry<String, Parameter> e : new DepthAnythingV2(mc, m).namedParameters().entrySet()) {
                shapes.put(e.getKey(), e.getValue().shape().getShape());
            }
        }
        return RandomWeights.of(shapes, seed);
    }

    private static ResolvedModel weights(ModelSource.Weights w, Options o) {
        LinkedHashMap<String, HostTensor> sd = new LinkedHashMap<>(StateDicts.readAny(w.file()));
        ModelConfig given = w.modelConfig() == null ? null : ModelConfig.fromYaml(w.modelConfig());
        if (StateDicts.isDa3Naming(sd.keySet())) {
            // the architecture (config.json / model.yaml / shapes, or the one given) and its refusals first
            Da3Checkpoint ck = Da3Checkpoint.of(w.file(), sd, given);
            if (!o.da3()) {
                throw LoraException.file(w.file(), ck.config().family().yamlName() + " weights: " + notYet(o));
            }
            ModelConfig mc = ck.config();
            // a Hugging Face folder: its model.safetensors is the file (hashed for the provenance)
            Path file = Files.isDirectory(w.file()) ? w.file().resolve("model.safetensors") : w.file();
            return new ResolvedModel(() -> mc, w.modelConfig() != null ? w.modelConfig().toString()
                    : ResolvedModel.FROM_WEIGHTS, ck.stateDict(), Provenance.file(file, null), official(o), null, null);
        }
        if (given != null && given.isDa3()) {
            throw LoraException.file(w.file(), "is a Depth Anything V2 checkpoint, not a Depth Anything 3 one (--model-config "
                    + w.modelConfig() + " is " + given.family().yamlName() + ")");
        }
        if (w.modelConfig() != null) {
            ModelConfig mc = v2Only(given, w.modelConfig().toString(), o);
            return new ResolvedModel(() -> mc, w.modelConfig().toString(), sd, Provenance.file(w.file(), null),
                    official(o), null, null);
        }
        return new ResolvedModel(() -> inferred(w.file(), sd), ResolvedModel.FROM_WEIGHTS, sd,
                Provenance.file(w.file(), null), official(o), null, null);
    }

    private static ResolvedModel checkpoint(ModelSource.Checkpoint c, Options o) {
        AdapterCheckpoint ck = AdapterCheckpoint.load(c.dir());
        RunFolder run = RunFolder.of(c.dir());
        ModelSection section = run.config() != null ? run.config().model : ModelSection.defaults();
        long seed = run.config() != null ? run.config().train.seed() : TrainSection.defaults().seed();
        ModelConfig explicit = null;
        String from = null;
        if (c.modelConfig() != null) {
            explicit = ModelConfig.fromYaml(c.modelConfig());
            if (explicit.isDa3() && !o.da3Checkpoints()) {
                throw new LoraException(c.modelConfig() + ": " + explicit.family().yamlName() + " is a Depth Anything 3 "
                        + "architecture: " + notYet(o));
            }
            from = c.modelConfig().toString();
        } else if (ck.modelConfig() != null) {
            Path record = c.dir().resolve(AdapterCheckpoint.CONFIG);
            explicit = ModelConfig.fromTree(ck.modelConfig(), record);
            from = record.toString();
        }
        Preprocessing prep = o.data() != null ? Preprocessing.of(o.data())
                : run.config() == null ? official(o)
                : Preprocessing.of(o.inputSize() != null ? run.config().data.with("input_size", o.inputSize()) : run.config().data);
        boolean random = c.weightsOverride() == null && (ck.randomBase() || section.randomWeights());
        if (random) {
            if (explicit == null && fromSection(section) == null) {
                throw new LoraException(c.dir() + ": the base weights are seeded random numbers and the architecture "
                        + "is unknown (give --model-config FILE)");
            }
            ModelConfig mc = explicit != null ? explicit : fromSection(section);
            LinkedHashMap<String, HostTensor> sd = randomWeights(mc, seed);
            AdaptedWeights.checkShapes(sd, ck.adapters(), Path.of(ModelSection.RANDOM));
            return new ResolvedModel(() -> mc, from != null ? from : sectionKey(section), sd,
                    Provenance.random(seed, Integer.toHexString(mc.hashCode())), prep, ck, run);
        }
        Path file = ck.baseWeights(c.weightsOverride()); // verified against the recorded SHA-256
        LinkedHashMap<String, HostTensor> sd = new LinkedHashMap<>(StateDicts.readAny(file));
        if (StateDicts.isDa3Naming(sd.keySet())) {
            // a LoRA checkpoint on a Depth Anything 3 base: the recorded architecture (or the files beside the base)
            Da3Checkpoint base = Da3Checkpoint.of(file, sd, explicit != null && explicit.isDa3() ? explicit : null);
            if (!o.da3Checkpoints()) {
                throw LoraException.file(c.dir(), "a LoRA checkpoint on a " + base.config().family().yamlName()
                        + " base: " + notYet(o));
            }
            AdaptedWeights.checkShapes(base.stateDict(), ck.adapters(), file);
            ModelConfig mc = base.config();
            return new ResolvedModel(() -> mc, from != null ? from : ResolvedModel.FROM_WEIGHTS, base.stateDict(),
                    Provenance.file(file, ck.baseSha256()), prep, ck, run);
        }
        AdaptedWeights.checkShapes(sd, ck.adapters(), file);
        ModelConfig mc = explicit != null ? explicit : fromSection(section, o);
        if (explicit == null) {
            from = mc != null ? sectionKey(section) : ResolvedModel.FROM_WEIGHTS;
        }
        Supplier<ModelConfig> arch = mc != null ? () -> mc : () -> inferred(file, sd);
        return new ResolvedModel(arch, from, sd, Provenance.file(file, ck.baseSha256()), prep, ck, run);
    }

    private static ResolvedModel run(RunConfig cfg, Options o) {
        ModelSection model = cfg.model;
        fromSection(model, o); // a Depth Anything 3 preset or model.config: refused in one line before any file is read
        String where = cfg.source == null ? "" : cfg.source + ": ";
        // a run without data (the synthetic benchmark): the official preprocessing
        Preprocessing prep = cfg.data == null ? official(o)
                : Preprocessing.of(o.inputSize() != null ? cfg.data.with("input_size", o.inputSize()) : cfg.data);
        if (model.randomWeights()) {
            ModelConfig mc = fromSection(model, o);
            if (mc == null) {
                throw new LoraException(where + "model.weights: random needs model.preset or model.config (the "
                        + "architecture)");
            }
            return new ResolvedModel(() -> mc, sectionKey(model), randomWeights(mc, cfg.train.seed()),
                    Provenance.random(cfg.train.seed(), Integer.toHexString(mc.hashCode())), prep, null, null);
        }
        Path file = Path.of(model.weights());
        if (!Files.exists(file)) {
            throw LoraException.file(file, "base weights not found (model.weights" + (where.isEmpty() ? "" : " in "
                    + where.replaceAll(": $", "")) + "; configs/README.md says where to get them)");
        }
        LinkedHashMap<String, HostTensor> sd = new LinkedHashMap<>(StateDicts.readAny(file));
        ModelConfig mc = fromSection(model, o);
        if (StateDicts.isDa3Naming(sd.keySet())) {
            // Depth Anything 3 base weights: the section's architecture, else the files beside them or the shapes
            Da3Checkpoint ck = Da3Checkpoint.of(file, sd, mc);
            if (!o.da3()) {
                throw LoraException.file(file, ck.config().family().yamlName() + " weights: " + notYet(o));
            }
            ModelConfig da3 = ck.config();
            Path hashed = Files.isDirectory(file) ? file.resolve("model.safetensors") : file;
            return new ResolvedModel(() -> da3, sectionKey(model),
                    ck.stateDict(), Provenance.file(hashed, null), prep, null, null);
        }
        if (mc != null && mc.isDa3()) {
            throw LoraException.file(file, "is a Depth Anything V2 checkpoint, not a Depth Anything 3 one ("
                    + sectionKey(model) + " is " + mc.family().yamlName() + ")");
        }
        Supplier<ModelConfig> arch = mc != null ? () -> mc : () -> ModelConfig.forWeights(file, sd);
        return new ResolvedModel(arch, sectionKey(model), sd, Provenance.file(file, null), prep, null, null);
    }

    /** The architecture the weights themselves tell ({@link ModelConfig#forWeights}); errors name the file. */
    private static ModelConfig inferred(Path file, Map<String, HostTensor> sd) {
        try {
            return ModelConfig.forWeights(file, sd);
        } catch (LoraException e) {
            throw LoraException.file(file, e.getMessage(), e);
        }
    }

    private static Preprocessing official(Options o) {
        return Preprocessing.official(o.inputSize() != null ? SizeRule.lowerBound(o.inputSize()) : SizeRule.official());
    }

    /** The section's own architecture choice: {@code model.preset}, else {@code model.config}; null if neither. */
    private static ModelConfig fromSection(ModelSection model) {
        return fromSection(model, Options.DEFAULT);
    }

    private static ModelConfig fromSection(ModelSection model, Options o) {
        if (model != null && model.preset() != null) {
            return v2Only(ModelConfig.preset(model.preset()), "model.preset " + model.preset(), o);
        }
        if (model != null && model.config() != null) {
            return v2Only(ModelConfig.fromYaml(Path.of(model.config())), model.config(), o);
        }
        return null;
    }

    /**
     * A run description ({@code model:} section) and a LoRA checkpoint are Depth Anything V2 only
     * in the commands that do not run Depth Anything 3 yet (issue 26): a Depth Anything 3 architecture
     * is one line naming where it came from. The commands that say so ({@link Options#da3()},
     * {@link Options#da3Checkpoints()}) run it.
     */
    private static ModelConfig v2Only(ModelConfig mc, String source, Options o) {
        if (mc != null && mc.isDa3() && !o.da3Checkpoints()) {
            throw new LoraException(source + ": " + mc.family().yamlName() + " is a Depth Anything 3 architecture; "
                    + notYet(o.da3() ? o.command(null) : o));
        }
        return mc;
    }

    /** "Depth Anything 3 is not supported by lora train yet (...)". */
    static String notYet(Options o) {
        String command = o.command() != null ? o.command() : o.da3() ? null : RUNNING.get();
        return "Depth Anything 3 is not supported by " + (command == null ? "this command" : "lora " + command)
                + " yet (lora predict, info, train, eval and export --format onnx of base weights run it)";
    }

    private static final ThreadLocal<String> RUNNING = new ThreadLocal<>();

    /**
     * The command line's subcommand now running on this thread ({@code cli.Main} sets it, null
     * clears it): named in a refusal when the caller did not name itself ({@link Options#command}).
     */
    public static void runningCommand(String name) {
        if (name == null) {
            RUNNING.remove();
        } else {
            RUNNING.set(name);
        }
    }

    /** The key that decides a section's architecture, for messages: "model.preset vits-metric-indoor". */
    public static String sectionKey(ModelSection model) {
        if (model.preset() != null) {
            return "model.preset " + model.preset();
        }
        if (model.config() != null) {
            return "model.config " + model.config();
        }
        return "model.weights " + model.weights();
    }
}
