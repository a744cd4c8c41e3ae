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
import java.util.Collections;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
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
 *
 * <p>Depth Anything 3: weights with the official DA3 names are read by {@link Da3Checkpoint} (its
 * architecture and refusals), whether given as {@code --weights}, a run's {@code model.weights} or a
 * checkpoint's base; a command gets them only if it says it runs them ({@link Options#runs(String, Set)},
 * {@link Da3}).
 */
public final class ModelResolver {
    private ModelResolver() {}

    /**
     * What of Depth Anything 3 a command runs; each command says so explicitly in its {@link Options}.
     * A Depth Anything 3 model given to a command that does not run it is refused in one line, so that
     * none goes silently through V2's disparity pipelines.
     */
    public enum Da3 {
        /** Depth Anything 3 base weights ({@code --weights}, a run's {@code model.weights} or its seeded random base). */
        WEIGHTS,
        /** LoRA checkpoints on a Depth Anything 3 base ({@code --checkpoint}, {@code --resume}). */
        CHECKPOINTS;

        /** Both: base weights and checkpoints (predict, info, train, eval, export, serve, sweep, benchmark). */
        public static final Set<Da3> ALL = Collections.unmodifiableSet(EnumSet.allOf(Da3.class));
    }

    /**
     * What a command may change about how the model sees images, and what it runs.
     *
     * @param inputSize {@code --input-size}: the official rule at this size instead of the default; may be null
     * @param data the data settings a checkpoint is evaluated with (eval's {@code --data}/{@code --set});
     *     its size rule and interpolation win; may be null
     * @param command the command resolving, named in a refusal ({@code sweep}); may be null ("this command")
     * @param da3 what of Depth Anything 3 the command runs ({@link Da3}); empty: Depth Anything V2 only
     */
    public record Options(Integer inputSize, DataConfig data, String command, Set<Da3> da3) {
        public static final Options DEFAULT = new Options(null, null);

        public Options {
            da3 = da3 == null || da3.isEmpty() ? Set.of() : Collections.unmodifiableSet(EnumSet.copyOf(da3));
        }

        public Options(Integer inputSize, DataConfig data) {
            this(inputSize, data, null, Set.of());
        }

        public static Options inputSize(Integer n) {
            return new Options(n, null);
        }

        /**
         * These options for {@code command} (a name for messages only), which runs {@code da3} of Depth
         * Anything 3 (none: V2 only, a Depth Anything 3 model is refused naming the command).
         */
        public Options runs(String command, Set<Da3> da3) {
            return new Options(inputSize, data, command, da3);
        }

        /** These options for {@code command}, which runs Depth Anything V2 only (named in the refusal of a DA3 model). */
        public Options command(String command) {
            return runs(command, Set.of());
        }

        /** True where the command runs {@code what}. */
        public boolean runs(Da3 what) {
            return da3.contains(what);
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
        String from = w.modelConfig() != null ? w.modelConfig().toString() : ResolvedModel.FROM_WEIGHTS;
        Da3Checkpoint da3 = da3(w.file(), sd, given, "--model-config " + w.modelConfig());
        if (da3 != null) {
            require(o, Da3.WEIGHTS, w.file(), da3.config().family().yamlName() + " weights");
            return da3Model(w.file(), da3, from, null, official(o), null, null);
        }
        Supplier<ModelConfig> arch = given != null ? () -> given : () -> inferred(w.file(), sd);
        return new ResolvedModel(arch, from, sd, Provenance.file(w.file(), null), official(o), null, null);
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
            from = c.modelConfig().toString();
        } else if (ck.modelConfig() != null) {
            Path record = c.dir().resolve(AdapterCheckpoint.CONFIG);
            explicit = ModelConfig.fromTree(ck.modelConfig(), record);
            from = record.toString();
        }
        ModelConfig declared = explicit != null ? explicit : fromSection(section);
        if (declared != null && declared.isDa3()) { // before the base weights are read
            require(o, Da3.CHECKPOINTS, c.dir(), "a LoRA checkpoint on a " + declared.family().yamlName() + " base ("
                    + (explicit != null ? from : sectionKey(section)) + ")");
        }
        Preprocessing prep = o.data() != null ? Preprocessing.of(o.data())
                : run.config() == null ? official(o)
                : Preprocessing.of(o.inputSize() != null ? run.config().data.with("input_size", o.inputSize()) : run.config().data);
        boolean random = c.weightsOverride() == null && (ck.randomBase() || section.randomWeights());
        if (random) {
            if (declared == null) {
                throw new LoraException(c.dir() + ": the base weights are seeded random numbers and the architecture "
                        + "is unknown (give --model-config FILE)");
            }
            ModelConfig mc = declared;
            LinkedHashMap<String, HostTensor> sd = randomWeights(mc, seed);
            AdaptedWeights.checkShapes(sd, ck.adapters(), Path.of(ModelSection.RANDOM));
            return new ResolvedModel(() -> mc, from != null ? from : sectionKey(section), sd,
                    Provenance.random(seed, Integer.toHexString(mc.hashCode())), prep, ck, run);
        }
        Path file = ck.baseWeights(c.weightsOverride()); // verified against the recorded SHA-256
        LinkedHashMap<String, HostTensor> sd = new LinkedHashMap<>(StateDicts.readAny(file));
        // a Depth Anything 3 base: the recorded architecture (or the files beside the base); a V2 record is not its
        Da3Checkpoint da3 = da3(file, sd, declared != null && declared.isDa3() ? declared : null,
                explicit != null ? from : sectionKey(section));
        if (da3 != null) {
            require(o, Da3.CHECKPOINTS, c.dir(), "a LoRA checkpoint on a " + da3.config().family().yamlName() + " base");
            AdaptedWeights.checkShapes(da3.stateDict(), ck.adapters(), file);
            return da3Model(file, da3, from != null ? from : ResolvedModel.FROM_WEIGHTS, ck.baseSha256(), prep, ck, run);
        }
        AdaptedWeights.checkShapes(sd, ck.adapters(), file);
        ModelConfig mc = declared;
        if (explicit == null) {
            from = mc != null ? sectionKey(section) : ResolvedModel.FROM_WEIGHTS;
        }
        Supplier<ModelConfig> arch = mc != null ? () -> mc : () -> inferred(file, sd);
        return new ResolvedModel(arch, from, sd, Provenance.file(file, ck.baseSha256()), prep, ck, run);
    }

    private static ResolvedModel run(RunConfig cfg, Options o) {
        ModelSection model = cfg.model;
        ModelConfig mc = fromSection(model);
        String where = cfg.source == null ? "" : cfg.source + ": ";
        if (mc != null && mc.isDa3()) { // refused in one line before any file is read
            require(o, Da3.WEIGHTS, null, where + sectionKey(model) + ": " + mc.family().yamlName()
                    + " is a Depth Anything 3 architecture");
        }
        // a run without data (the synthetic benchmark): the official preprocessing
        Preprocessing prep = cfg.data == null ? official(o)
                : Preprocessing.of(o.inputSize() != null ? cfg.data.with("input_size", o.inputSize()) : cfg.data);
        if (model.randomWeights()) {
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
        // Depth Anything 3 base weights: the section's architecture, else the files beside them or the shapes
        Da3Checkpoint da3 = da3(file, sd, mc, sectionKey(model));
        if (da3 != null) {
            require(o, Da3.WEIGHTS, file, da3.config().family().yamlName() + " weights");
            return da3Model(file, da3, sectionKey(model), null, prep, null, null);
        }
        Supplier<ModelConfig> arch = mc != null ? () -> mc : () -> ModelConfig.forWeights(file, sd);
        return new ResolvedModel(arch, sectionKey(model), sd, Provenance.file(file, null), prep, null, null);
    }

    /**
     * The Depth Anything 3 model in {@code sd} (read from {@code file}) when its names are Depth Anything 3's
     * (the architecture: {@code given}, else config.json / model.yaml beside the file, else the shapes; its
     * refusals first); null for V2 weights, which a Depth Anything 3 architecture ({@code given}, from
     * {@code givenFrom}) cannot describe: refused in one line.
     */
    private static Da3Checkpoint da3(Path file, LinkedHashMap<String, HostTensor> sd, ModelConfig given,
                                     String givenFrom) {
        if (StateDicts.isDa3Naming(sd.keySet())) {
            return Da3Checkpoint.of(file, sd, given);
        }
        if (given != null && given.isDa3()) {
            throw LoraException.file(file, "is a Depth Anything V2 checkpoint, not a Depth Anything 3 one (" + givenFrom
                    + " is " + given.family().yamlName() + ")");
        }
        return null;
    }

    /** A Depth Anything 3 model: a Hugging Face folder's {@code model.safetensors} is the file hashed for the provenance. */
    private static ResolvedModel da3Model(Path file, Da3Checkpoint da3, String from, String sha256, Preprocessing prep,
                                          AdapterCheckpoint ck, RunFolder run) {
        ModelConfig mc = da3.config();
        Path hashed = Files.isDirectory(file) ? file.resolve(Da3Checkpoint.WEIGHTS) : file;
        return new ResolvedModel(() -> mc, from, da3.stateDict(), Provenance.file(hashed, sha256), prep, ck, run);
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
        if (model != null && model.preset() != null) {
            return ModelConfig.preset(model.preset());
        }
        if (model != null && model.config() != null) {
            return ModelConfig.fromYaml(Path.of(model.config()));
        }
        return null;
    }

    /**
     * A Depth Anything 3 model that needs {@code needed} ({@code what} it is, for the message; {@code file}
     * it came from, may be null) goes only to a command that runs it ({@link Options#runs(Da3)}); the others
     * refuse it in one line naming the command.
     */
    private static void require(Options o, Da3 needed, Path file, String what) {
        if (o.runs(needed)) {
            return;
        }
        String why = what + ": Depth Anything 3 is not supported by "
                + (o.command() == null ? "this command" : "lora " + o.command())
                + " yet (lora predict, info, train, eval, export, import, serve, sweep and benchmark run it)";
        throw file == null ? new LoraException(why) : LoraException.file(file, why);
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
