package com.loratool.api;

import ai.djl.ndarray.NDManager;
import com.loratool.LoraException;
import com.loratool.config.CheckpointData;
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
import com.loratool.io.AtomicFiles;
import com.loratool.io.FolderLock;
import com.loratool.io.HostTensor;
import com.loratool.io.Interrupts;
import com.loratool.io.OutputGuard;
import com.loratool.lora.AdapterCheckpoint;
import com.loratool.lora.export.AdaptedWeights;
import com.loratool.lora.export.CheckpointBase;
import com.loratool.model.Compute;
import com.loratool.model.DepthAnythingV2;
import com.loratool.model.DepthPredictor;
import com.loratool.model.MemoryCheck;
import com.loratool.model.ModelConfig;
import java.io.IOException;
import java.io.PrintStream;
import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Stream;

/**
 * {@code lora eval} for JVM code: a checkpoint's adapters against the original model on the
 * run's images (paired, read and preprocessed by the data stage with the run's data settings),
 * metrics and pictures written as the command writes them.
 *
 * <pre>{@code
 * Evaluation.Report r = Evaluation.of(Path.of("runs/smoke/best")).pictures(false).run();
 * double absRel = r.results().get(0).lora().absRel();
 * }</pre>
 */
public final class Evaluation {
    private final Path checkpoint;
    private List<Path> compare = List.of();
    private Path data;
    private List<String> sets = List.of();
    private String split = "val";
    private Path output;
    private double alphaScale = 1;
    private Path weights;
    private Path modelConfig;
    private Integer inputSize;
    private boolean errorMaps;
    private boolean pictures = true;
    private boolean cache = true;
    private boolean memoryCheck = true;
    private Path cacheDir;
    private String device = "cpu";
    private int threads;
    private PrintStream log = System.out;

    /** Where the reports went, and each checkpoint's result (the first is {@code checkpoint}). */
    public record Report(Path dir, List<String> names, List<EvalResult> results) {}

    private Evaluation(Path checkpoint) {
        this.checkpoint = checkpoint;
    }

    /** A checkpoint folder, e.g. runs/&lt;run&gt;/best. */
    public static Evaluation of(Path checkpoint) {
        return new Evaluation(checkpoint);
    }

    /** More checkpoints (or run folders) in one table. */
    public Evaluation compare(List<Path> more) {
        this.compare = List.copyOf(more);
        return this;
    }

    /** Another data folder laid out like the run's (default: the run's data.root). */
    public Evaluation data(Path dir) {
        this.data = dir;
        return this;
    }

    /** {@code data.key=value} overrides of the run's data section. */
    public Evaluation set(List<String> overrides) {
        this.sets = List.copyOf(overrides);
        return this;
    }

    /** val, train or all of the run's split.json. */
    public Evaluation split(String which) {
        this.split = which;
        return this;
    }

    /** Report folder (default &lt;run&gt;/eval). */
    public Evaluation output(Path dir) {
        this.output = dir;
        return this;
    }

    public Evaluation alphaScale(double s) {
        this.alphaScale = s;
        return this;
    }

    /** Base weights, if not at the recorded path (checked against the recorded SHA-256). */
    public Evaluation weights(Path file) {
        this.weights = file;
        return this;
    }

    public Evaluation modelConfig(Path file) {
        this.modelConfig = file;
        return this;
    }

    /** Network input size instead of the run's size rule. */
    public Evaluation inputSize(Integer n) {
        this.inputSize = n;
        return this;
    }

    public Evaluation errorMaps(boolean on) {
        this.errorMaps = on;
        return this;
    }

    public Evaluation pictures(boolean on) {
        this.pictures = on;
        return this;
    }

    /** Use the original model's prediction cache (default on). */
    public Evaluation cache(boolean on) {
        this.cache = on;
        return this;
    }

    /** Refuse images whose prediction would not fit in the available memory (default on). */
    public Evaluation memoryCheck(boolean on) {
        this.memoryCheck = on;
        return this;
    }

    public Evaluation cacheDir(Path dir) {
        this.cacheDir = dir;
        return this;
    }

    /** auto, cpu or gpu. */
    public Evaluation device(String name) {
        this.device = name;
        return this;
    }

    /** PyTorch threads, 0 = all cores. */
    public Evaluation threads(int n) {
        this.threads = n;
        return this;
    }

    public Evaluation log(PrintStream out) {
        this.log = out;
        return this;
    }

    /** Evaluates, writes the reports, and returns them; one summary line per checkpoint goes to {@code log}. */
    public Report run() {
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
        Path out = output != null ? output : (run.dir() != null ? run.dir() : checkpoint.toAbsolutePath().getParent())
                .resolve(alphaScale == 1 ? "eval" : "eval-alpha" + fmt(alphaScale));
        OutputGuard.ofFolder("--output", out).inputs("--checkpoint", checkpoints).input("--data", dc.root() == null ? null : Path.of(dc.root()))
                .input("--weights", weights).input("--model-config", modelConfig).check();
        Pairing.Result pairing = Pairing.pair(dc);
        if (!pairing.problems().isEmpty()) {
            log.println("warning: " + dc.root() + ": " + pairing.problems());
        }
        List<Pair> pairs = Split.side(pairing.pairs(), run.splitJson(), split, dc.stripSuffixes());
        Compute.setThreads(threads);
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
        List<Path> images = pairs.stream().map(Pair::image).toList();
        // one eval writes a report folder at a time
        try (FolderLock lock = FolderLock.acquire(out, "lora eval");
                NDManager root = NDManager.newBaseManager(Compute.device(device))) {
            for (int k = 0; k < cks.size(); k++) {
                AdapterCheckpoint ck = cks.get(k);
                RunFolder ckRun = k == 0 ? run : RunFolder.of(checkpoints.get(k));
                CheckpointBase.Base b = CheckpointBase.load(ck, ckRun, weights, modelConfig, true);
                LinkedHashMap<String, HostTensor> base = b.stateDict();
                ModelConfig cfg = b.config();
                // before any image is decoded: each image's network size from its header
                MemoryCheck.require("eval", dc, images, MemoryCheck.inference(cfg, 1), memoryCheck);
                String sha = b.cacheKey();
                LazyModel original = new LazyModel(root, cfg, base, sizeRule);
                DepthModel cachedOriginal = !cache ? original
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
                Path panels = !pictures ? null : dir.resolve("panels");
                EvalResult r = evaluate(new Evaluator(lora, cachedOriginal, title, errorMaps, cfg.isMetric()), pairs, loader, panels);
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
                    log.printf(Locale.ROOT, "%s: %d images, absolute AbsRel %.4f (original %.4f), delta1 %.4f "
                            + "(original %.4f), RMSE %.1f mm (original %.1f mm); aligned AbsRel %.4f (original %.4f) -> %s%n",
                            checkpoints.get(k), r.images().size(), r.loraAbsolute().absRel(), r.originalAbsolute().absRel(),
                            r.loraAbsolute().delta1(), r.originalAbsolute().delta1(), r.loraAbsolute().rmse(),
                            r.originalAbsolute().rmse(), r.lora().absRel(), r.original().absRel(), dir.resolve("report.md"));
                } else {
                    log.printf(Locale.ROOT, "%s: %d images, AbsRel %.4f (original %.4f), delta1 %.4f (original %.4f) -> %s%n",
                            checkpoints.get(k), r.images().size(), r.lora().absRel(), r.original().absRel(),
                            r.lora().delta1(), r.original().delta1(), dir.resolve("report.md"));
                }
            }
        }
        if (cks.size() > 1) {
            ReportFiles.writeString(out.resolve("compare.md"), EvalReport.compareMarkdown(names, results));
            ReportFiles.writeString(out.resolve("compare.csv"), EvalReport.compareCsv(names, results));
            log.println("comparison: " + out.resolve("compare.md"));
        }
        return new Report(out, Collections.unmodifiableList(names), Collections.unmodifiableList(results));
    }

    /**
     * Runs the evaluator with its pictures written to {@code panels.tmp/} beside {@code panels},
     * moved into place when every image was evaluated: an image that fails part-way (corrupt file)
     * leaves no partial panels/ (and an older complete one stays).
     */
    static EvalResult evaluate(Evaluator ev, List<Pair> pairs, Function<Pair, EvalSample> loader, Path panels) {
        if (panels == null) {
            return ev.run(pairs, loader, null);
        }
        Path staging = panels.resolveSibling(panels.getFileName() + ".tmp");
        AtomicFiles.deleteTree(staging);
        Interrupts.Scope cleanup = Interrupts.onInterrupt(() -> AtomicFiles.deleteTree(staging));
        EvalResult r;
        try {
            r = ev.run(pairs, loader, staging);
        } catch (RuntimeException e) {
            AtomicFiles.deleteTree(staging);
            throw e;
        } finally {
            cleanup.close();
        }
        AtomicFiles.deleteTree(panels);
        if (Files.exists(staging)) {
            try {
                Files.move(staging, panels, StandardCopyOption.ATOMIC_MOVE);
            } catch (IOException e) {
                throw LoraException.file(panels, "cannot move the pictures into place: " + e.getMessage());
            }
        }
        return r;
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

    public static String fmt(double v) {
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
