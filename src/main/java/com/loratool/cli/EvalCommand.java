package com.loratool.cli;

import ai.djl.ndarray.NDManager;
import com.loratool.LoraException;
import com.loratool.config.DataConfig;
import com.loratool.config.RunFolder;
import com.loratool.config.Sizing;
import com.loratool.data.FullSample;
import com.loratool.data.ImageReader;
import com.loratool.data.Pair;
import com.loratool.data.Pairing;
import com.loratool.data.SamplePreparer;
import com.loratool.data.Split;
import com.loratool.eval.DepthModel;
import com.loratool.eval.EvalReport;
import com.loratool.eval.EvalResult;
import com.loratool.eval.EvalSample;
import com.loratool.eval.Evaluator;
import com.loratool.eval.PredictionCache;
import com.loratool.eval.ReportFiles;
import com.loratool.io.Checksums;
import com.loratool.io.HostTensor;
import com.loratool.lora.AdapterCheckpoint;
import com.loratool.lora.export.AdaptedWeights;
import com.loratool.model.Compute;
import com.loratool.model.DepthAnythingV2;
import com.loratool.model.DepthPredictor;
import com.loratool.model.ModelConfig;
import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.function.Function;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code lora eval}: did the adapters help? Metrics and pictures, LoRA against the original. */
@Command(name = "eval", mixinStandardHelpOptions = true,
        description = {"Evaluate a checkpoint's adapters against the original model on the same images: metrics "
                + "(AbsRel, SqRel, RMSE, RMSE(log), log10, delta1-3, SILog after per-image scale-and-shift alignment "
                + "in disparity; for a metric model first without any alignment, in mm; docs/eval.md) and one picture "
                + "per image.",
            "Writes metrics.json, metrics.csv, report.md and panels/<image>.png. The original's predictions are "
                + "cached per weights file and input size ($LORA_CACHE or ~/.cache/lora/predictions)."})
public final class EvalCommand implements Callable<Integer> {
    @Option(names = "--checkpoint", required = true, paramLabel = "DIR",
            description = "Checkpoint folder, e.g. runs/<run>/best.")
    Path checkpoint;

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

    @Option(names = "--weights", paramLabel = "FILE",
            description = "Base weights, if not at the path recorded in the checkpoint (checked against its SHA-256).")
    Path weights;

    @Option(names = "--model-config", paramLabel = "FILE",
            description = "Architecture YAML. Default: the run's model.preset/model.config, else inferred from the weights.")
    Path modelConfig;

    @Option(names = "--input-size", paramLabel = "N",
            description = "Network input size (shorter side, multiple of 14), as data.input_size. Default: the size "
                    + "rule the run was trained with (data.size / data.scale / data.input_size), else 518.")
    Integer inputSize;

    @Option(names = "--error-maps", description = "Add |error| maps of both models under each picture.")
    boolean errorMaps;

    @Option(names = "--no-pictures", description = "Only metrics, no panel pictures.")
    boolean noPictures;

    @Option(names = "--no-cache", description = "Recompute the original model's predictions.")
    boolean noCache;

    @Option(names = "--cache-dir", paramLabel = "DIR",
            description = "Where the original's predictions are cached. Default: $LORA_CACHE or ~/.cache/lora/predictions.")
    Path cacheDir;

    @Mixin
    CommonOptions common;

    @Override
    public Integer call() {
        if (!split.equals("val") && !split.equals("train") && !split.equals("all")) {
            throw new LoraException("--split " + split + ": expected val, train or all");
        }
        if (!(alphaScale >= 0) || Double.isInfinite(alphaScale)) {
            throw new LoraException("--alpha-scale " + alphaScale + ": must be >= 0");
        }
        List<Path> checkpoints = new ArrayList<>();
        checkpoints.add(checkpoint);
        for (Path p : compare) {
            checkpoints.add(Files.isDirectory(p.resolve("best")) ? p.resolve("best") : p);
        }
        List<AdapterCheckpoint> cks = checkpoints.stream().map(AdapterCheckpoint::load).toList();
        RunFolder run = RunFolder.of(checkpoint);
        DataConfig dc = CheckpointData.of(run, data, sets, inputSize);
        Pairing.Result pairing = Pairing.pair(dc);
        if (!pairing.problems().isEmpty()) {
            System.err.println("warning: " + dc.root() + ": " + pairing.problems());
        }
        List<Pair> pairs = Split.side(pairing.pairs(), run.splitJson(), split, dc.stripSuffixes());
        Path out = output != null ? output : (run.dir() != null ? run.dir() : checkpoint.toAbsolutePath().getParent())
                .resolve(alphaScale == 1 ? "eval" : "eval-alpha" + fmt(alphaScale));
        Compute.setThreads(common.threads);
        DepthPredictor.loadOpenCv();
        SamplePreparer preparer = new SamplePreparer(dc);
        Function<Pair, EvalSample> loader = p -> {
            FullSample f = preparer.readFull(p);
            try {
                return new EvalSample(p.stem(), p.image(), ImageReader.toBgr8(f.rgb()), f.z(),
                        preparer.networkInput(f.rgb()));
            } finally {
                f.rgb().release();
            }
        };
        DepthPredictor.SizeRule sizeRule = (h, w) -> {
            Sizing.Size sz = dc.targetSize(h, w);
            return new int[] {sz.height(), sz.width()};
        };
        String sizeKey = dc.sizeKey() + "-" + dc.imageInterpolation();

        List<String> names = new ArrayList<>();
        List<EvalResult> results = new ArrayList<>();
        try (NDManager root = NDManager.newBaseManager(Compute.device(common.device.name()))) {
            for (int k = 0; k < cks.size(); k++) {
                AdapterCheckpoint ck = cks.get(k);
                RunFolder ckRun = k == 0 ? run : RunFolder.of(checkpoints.get(k));
                CheckpointBase.Base b = CheckpointBase.load(ck, ckRun, weights, modelConfig, true);
                LinkedHashMap<String, HostTensor> base = b.stateDict();
                ModelConfig cfg = b.config();
                String sha = b.cacheKey();
                LazyModel original = new LazyModel(root, cfg, base, sizeRule);
                DepthModel cachedOriginal = noCache ? original
                        : new PredictionCache(original,
                        cacheDir != null ? cacheDir : PredictionCache.defaultRoot(), sha, sizeKey);
                DepthModel lora;
                LazyModel adapted = null;
                if (alphaScale == 0) {
                    lora = cachedOriginal;
                } else {
                    adapted = new LazyModel(root, cfg, AdaptedWeights.merged(base, ck, alphaScale), sizeRule);
                    lora = adapted;
                }
                String title = alphaScale == 1 ? "LoRA" : "LoRA x" + fmt(alphaScale);
                Path dir = k == 0 ? out : out.resolve("compare").resolve(label(checkpoints.get(k), k));
                Path panels = noPictures ? null : dir.resolve("panels");
                EvalResult r = new Evaluator(lora, cachedOriginal, title, errorMaps, cfg.isMetric())
                        .run(pairs, loader, panels);
                Map<String, String> settings = new LinkedHashMap<>();
                settings.put("checkpoint", checkpoints.get(k).toString());
                settings.put("base weights", b.description());
                settings.put("adapters", ck.adapters().layers().size() + " modules, r " + ck.r() + ", alpha "
                        + fmt(ck.alpha()) + (ck.rslora() ? " (rslora)" : "") + ", scaling " + fmt(ck.scaling().value()));
                settings.put("alpha scale", fmt(alphaScale));
                settings.put("data", dc.root() + " (" + dc.imagesDir() + "/, " + dc.depthDir() + "/; split " + split + ")");
                settings.put("network size", dc.sizeDescription() + ", " + dc.imageInterpolation());
                new EvalReport(r, settings, ckRun.lossPlot()).write(dir, panels);
                names.add(label(checkpoints.get(k), k));
                results.add(r);
                original.close();
                if (adapted != null) {
                    adapted.close();
                }
                if (r.absolute()) {
                    System.out.printf(Locale.ROOT, "%s: %d images, absolute AbsRel %.4f (original %.4f), delta1 %.4f "
                            + "(original %.4f), RMSE %.1f mm (original %.1f mm); aligned AbsRel %.4f (original %.4f) -> %s%n",
                            checkpoints.get(k), r.images().size(), r.loraAbsolute().absRel(), r.originalAbsolute().absRel(),
                            r.loraAbsolute().delta1(), r.originalAbsolute().delta1(), r.loraAbsolute().rmse(),
                            r.originalAbsolute().rmse(), r.lora().absRel(), r.original().absRel(), dir.resolve("report.md"));
                } else {
                    System.out.printf(Locale.ROOT, "%s: %d images, AbsRel %.4f (original %.4f), delta1 %.4f (original %.4f) -> %s%n",
                            checkpoints.get(k), r.images().size(), r.lora().absRel(), r.original().absRel(),
                            r.lora().delta1(), r.original().delta1(), dir.resolve("report.md"));
                }
            }
        }
        if (cks.size() > 1) {
            ReportFiles.writeString(out.resolve("compare.md"), EvalReport.compareMarkdown(names, results));
            ReportFiles.writeString(out.resolve("compare.csv"), EvalReport.compareCsv(names, results));
            System.out.println("comparison: " + out.resolve("compare.md"));
        }
        return 0;
    }

    private static String label(Path ck, int k) {
        Path a = ck.toAbsolutePath().normalize();
        String n = a.getFileName().toString();
        if ((n.equals("best") || n.startsWith("epoch-")) && a.getParent() != null) {
            Path p = a.getParent();
            if (p.getFileName().toString().equals("checkpoints") && p.getParent() != null) {
                p = p.getParent();
            }
            n = p.getFileName() + "/" + n;
        }
        return n.replace('/', '_');
    }

    static String fmt(double v) {
        return v == Math.rint(v) ? Long.toString((long) v)
                : new BigDecimal(String.format(Locale.ROOT, "%.4g", v)).stripTrailingZeros().toPlainString();
    }

    /** A model built on first use (the original is often served from the cache alone). */
    static final class LazyModel implements DepthModel, AutoCloseable {
        private final NDManager root;
        private final ModelConfig cfg;
        private Map<String, HostTensor> weights;
        private final DepthPredictor.SizeRule sizeRule;
        private NDManager manager;
        private DepthPredictor predictor;

        LazyModel(NDManager root, ModelConfig cfg, Map<String, HostTensor> weights, DepthPredictor.SizeRule sizeRule) {
            this.root = root;
            this.cfg = cfg;
            this.weights = weights;
            this.sizeRule = sizeRule;
        }

        @Override
        public float[] predict(EvalSample s) {
            if (predictor == null) {
                manager = root.newSubManager();
                DepthAnythingV2 m = new DepthAnythingV2(cfg, manager);
                m.load(weights);
                weights = null;
                predictor = new DepthPredictor(m, sizeRule);
            }
            return s.input() != null ? predictor.predict(s.input(), s.height(), s.width()) : predictor.predict(s.image());
        }

        @Override
        public void close() {
            if (manager != null) {
                manager.close();
            }
        }
    }
}
