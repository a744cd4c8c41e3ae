package com.loratool.api;

import ai.djl.ndarray.NDManager;
import com.loratool.LoraException;
import com.loratool.checkpoint.ModelResolver;
import com.loratool.checkpoint.ModelSource;
import com.loratool.checkpoint.Provenance;
import com.loratool.checkpoint.ResolvedModel;
import com.loratool.config.CheckpointData;
import com.loratool.config.DataConfig;
import com.loratool.config.RunFolder;
import com.loratool.data.CameraIntrinsics;
import com.loratool.data.FullSample;
import com.loratool.data.ImageReader;
import com.loratool.data.IntrinsicsFit;
import com.loratool.data.Pair;
import com.loratool.data.Pairing;
import com.loratool.data.Preprocessing;
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
import com.loratool.io.BatchFailures;
import com.loratool.io.FolderLock;
import com.loratool.io.Interrupts;
import com.loratool.io.OutputGuard;
import com.loratool.io.OutputNames;
import com.loratool.lora.AdapterCheckpoint;
import com.loratool.model.Compute;
import com.loratool.model.DepthPredictor;
import com.loratool.model.MemoryCheck;
import com.loratool.model.ModelConfig;
import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;
import java.util.function.Supplier;

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
    private boolean failFast;
    private PrintWriter log = new PrintWriter(System.out, true);

    /**
     * Where the reports went, and each checkpoint's result (the first is {@code checkpoint}); {@code pairs} the
     * pairs of the split, {@code leftOut} those that could not be read or predicted (each in none of the means
     * and listed in the reports; empty for a full evaluation).
     */
    public record Report(Path dir, List<String> names, List<EvalResult> results, int pairs,
                         List<BatchFailures.Failure> leftOut) {
        /** True when some pairs were left out. */
        public boolean partial() {
            return !leftOut.isEmpty();
        }
    }

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

    /**
     * Stop at the first pair that cannot be read or predicted (nothing written). Default off: such a pair is left
     * out of the metrics and listed in the reports and in {@link Report#leftOut()}. A split of one pair always
     * stops.
     */
    public Evaluation failFast(boolean on) {
        this.failFast = on;
        return this;
    }

    public Evaluation log(PrintStream out) {
        return log(new PrintWriter(out, true));
    }

    /** Where the summary lines go (the command's output stream). */
    public Evaluation log(PrintWriter out) {
        this.log = out;
        return this;
    }

    /** Evaluates, writes the reports, and returns them; one summary line per checkpoint goes to {@code log}. */
    public Report run() {
        Inputs in = inputs();
        List<String> names = new ArrayList<>();
        List<EvalResult> results = new ArrayList<>();
        List<Original> originals = new ArrayList<>();
        // one record for all checkpoints: a pair that failed for one is not tried again for the next
        BatchFailures failures = BatchFailures.of(failFast, in.pairs().size());
        // one eval writes a report folder at a time
        boolean existed = Files.exists(in.out());
        try (FolderLock lock = FolderLock.acquire(in.out(), "lora eval");
                NDManager root = NDManager.newBaseManager(Compute.device(device))) {
            for (int k = 0; k < in.checkpoints().size(); k++) {
                String name = in.labels().get(k);
                Path dir = k == 0 ? in.out() : in.out().resolve("compare").resolve(name);
                Original[] original = new Original[1];
                EvalResult r = evaluateCheckpoint(in, k, dir, root, failures, original);
                names.add(name);
                results.add(r);
                originals.add(original[0]);
                log.println(summaryLine(in.checkpoints().get(k), r, dir.resolve("report.md")));
            }
        } catch (RuntimeException e) {
            if (!existed) { // refused before any report (e.g. a da3metric eval on Z maps: no focal): no empty folder left
                removeIfEmpty(in.out());
            }
            throw e;
        }
        if (results.size() > 1) {
            List<String> rows = Original.rowNames(originals);
            ReportFiles.writeString(in.out().resolve("compare.md"), EvalReport.compareMarkdown(names, rows, results));
            ReportFiles.writeString(in.out().resolve("compare.csv"), EvalReport.compareCsv(names, rows, results));
            log.println("comparison: " + in.out().resolve("compare.md"));
        }
        log.flush();
        return new Report(in.out(), Collections.unmodifiableList(names), Collections.unmodifiableList(results),
                in.pairs().size(), failures.failures());
    }

    /**
     * What every checkpoint of one eval shares: the images (paired and split as the run's), their preparation, the
     * report folder; and each checkpoint's unique label (its compare/ folder and row).
     */
    private record Inputs(List<Path> checkpoints, List<String> labels, RunFolder run, DataConfig data, List<Pair> pairs,
                          Path out, SamplePreparer preparer, Supplier<CameraIntrinsics> cameraFit) {
        /**
         * The camera of the evaluated data (a DA3METRIC model's metres): fitted on first use, once for all
         * checkpoints ({@link IntrinsicsFit#ofData}, as training fits its run's).
         */
        CameraIntrinsics camera() {
            return cameraFit.get();
        }
    }

    /**
     * The original model a checkpoint is measured against: its base weights (SHA-256, or seed) and how images
     * are prepared for it. Checkpoints of one --compare may differ in both; each original gets its own row.
     */
    private record Original(String key, String base, String preprocessing) {
        /** "original" when all share one; else each named by its base (and preprocessing, where bases repeat). */
        static List<String> rowNames(List<Original> all) {
            if (all.stream().map(Original::key).distinct().count() == 1) {
                return Collections.nCopies(all.size(), "original");
            }
            boolean sameBases = all.stream().map(Original::key).distinct().count()
                    > all.stream().map(Original::base).distinct().count();
            return all.stream().map(o -> "original: " + o.base() + (sameBases ? " at " + o.preprocessing() : ""))
                    .toList();
        }
    }

    /** The options checked, the checkpoints opened (all, before any work), the images paired. */
    private Inputs inputs() {
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
        List<String> labels = labels(checkpoints); // refuses one checkpoint given twice
        checkpoints.forEach(AdapterCheckpoint::load); // every checkpoint readable before any work
        RunFolder run = RunFolder.of(checkpoint);
        DataConfig dc = CheckpointData.of(run, data, sets, inputSize);
        Path out = output != null ? output : (run.dir() != null ? run.dir() : checkpoint.toAbsolutePath().getParent())
                .resolve(alphaScale == 1 ? "eval" : "eval-alpha" + fmt(alphaScale));
        // every file eval reads: each checkpoint (read here, before any work) with the base weights, run config
        // and split it records, the data, --weights, --model-config
        OutputGuard guard = OutputGuard.ofFolder("--output", out).input("--data", dc.root() == null ? null : Path.of(dc.root()))
                .input("--weights", weights).input("--model-config", modelConfig);
        for (int k = 0; k < checkpoints.size(); k++) {
            guard.inputs(ModelResolver.files(new ModelSource.Checkpoint(checkpoints.get(k), weights, modelConfig),
                    k == 0 ? "--checkpoint" : "--compare " + checkpoints.get(k)));
        }
        if (checkpoints.size() > 1) { // the one place a batch names its outputs: one report folder per checkpoint
            guard.outputFiles("--output", claimed(OutputNames.claim("eval --compare", out.resolve("compare"),
                    checkpoints.subList(1, checkpoints.size()), ck -> List.of(labels.get(checkpoints.indexOf(ck))),
                    "named after the checkpoint's folders")));
        }
        guard.check(); // the output folder first, before the data is listed
        Pairing.Result pairing = Pairing.pair(dc);
        if (!pairing.problems().isEmpty()) {
            log.println("warning: " + dc.root() + ": " + pairing.problems());
        }
        List<Pair> pairs = Split.side(pairing.pairs(), run.splitJson(), split, dc.stripSuffixes());
        if (pictures) { // one picture per pair, by stem: no two pairs may share one (A.png and a.png on macOS)
            Map<Path, String> stems = new LinkedHashMap<>();
            pairs.forEach(p -> stems.put(p.image(), p.stem()));
            // as predict: every claimed name against every input (a picture onto --model-config), before any work
            guard.outputFiles("--output", claimed(OutputNames.claim("eval", out.resolve("panels"),
                    List.copyOf(stems.keySet()), image -> List.of(Evaluator.panelFile(Path.of(""), stems.get(image))
                            .toString()), "named by the pair's stem"))).check();
        }
        Compute.setThreads(threads);
        DepthPredictor.loadOpenCv();
        CameraIntrinsics[] fitted = new CameraIntrinsics[1];
        Supplier<CameraIntrinsics> camera = () -> {
            if (fitted[0] == null) {
                fitted[0] = IntrinsicsFit.ofData(dc, "a da3metric model's metres need the camera's focal (metres = focal"
                        + " x output / 300)", System.err);
            }
            if (fitted[0] == null) {
                throw LoraException.file(Path.of(dc.root()), "no image/depth pairs to fit the camera's focal from");
            }
            return fitted[0];
        };
        return new Inputs(List.copyOf(checkpoints), labels, run, dc, pairs, out, new SamplePreparer(dc), camera);
    }

    /** The files (or folders) an {@link OutputNames#claim} gave, for {@link OutputGuard#outputFiles}. */
    private static List<Path> claimed(Map<?, List<Path>> claims) {
        return claims.values().stream().flatMap(List::stream).toList();
    }

    /** Checkpoint {@code k} against its original model on the images; its report in {@code dir}. */
    private EvalResult evaluateCheckpoint(Inputs in, int k, Path dir, NDManager root, BatchFailures failures,
            Original[] originalOut) {
        Path path = in.checkpoints().get(k);
        ResolvedModel model = ModelResolver.resolve(new ModelSource.Checkpoint(path, weights, modelConfig),
                new ModelResolver.Options(null, in.data()).runs("eval", ModelResolver.Da3.ALL));
        AdapterCheckpoint ck = model.adapters().orElseThrow();
        Preprocessing prep = model.preprocessing();
        Provenance base = model.provenance();
        originalOut[0] = new Original(base.cacheKey() + "|" + prep.key() + "|" + model.architecture().hashCode(),
                base.random() ? "random weights (seed " + base.seed() + ")"
                        : base.file().getFileName() + " sha256 " + base.sha256().substring(0, 12), prep.key());
        // before any image is decoded: each image's network size from its header
        MemoryCheck.require("eval", prep.sizeRule(), in.pairs().stream().map(Pair::image).toList(),
                MemoryCheck.inference(model.architecture(), 1), memoryCheck);
        SamplePreparer preparer = in.preparer();
        Function<Pair, EvalSample> loader = p -> {
            FullSample f = preparer.readFull(p);
            try {
                return new EvalSample(p.stem(), p.image(), ImageReader.toBgr8(f.rgb()), f.z(), preparer.networkInput(f.rgb()));
            } finally {
                f.rgb().release();
            }
        };
        try (LazyModel original = new LazyModel(root, model, 0);
                LazyModel adapted = new LazyModel(root, model, alphaScale)) {
            DepthModel cachedOriginal = !cache ? original
                    : new PredictionCache(original, cacheDir != null ? cacheDir : PredictionCache.defaultRoot(),
                    model.provenance().cacheKey(), prep.key());
            DepthModel lora = alphaScale == 0 ? cachedOriginal : adapted;
            boolean da3Metric = model.architecture().family() == ModelConfig.Family.DA3METRIC;
            CameraIntrinsics camera = da3Metric ? in.camera() : null; // metres = focal x output / 300
            String title = alphaScale == 1 ? "LoRA" : "LoRA x" + fmt(alphaScale);
            Path panels = !pictures ? null : dir.resolve("panels");
            EvalResult r = evaluate(Evaluator.of(lora, cachedOriginal, title, errorMaps, model.architecture(), camera),
                    in.pairs(), loader, panels, failures);
            Map<String, String> settings = new LinkedHashMap<>();
            settings.put("checkpoint", path.toString());
            settings.put("base weights", model.provenance().description());
            if (da3Metric) {
                settings.put(EvalReport.DA3_METRES, String.format(Locale.ROOT, "focal x output / 300, the focal"
                        + " (fx + fy) / 2 of the camera fitted to the data's XYZ clouds (fx %.2f, fy %.2f px at %dx%d),"
                        + " resized to each network input", camera.fx(), camera.fy(), camera.width(), camera.height()));
            } else if (model.architecture().isDa3()) {
                settings.put(EvalReport.DEPTH_ALIGNMENT, "per-image least-squares scale and shift of the predicted depth to Z"
                        + " (Depth Anything 3: the output is depth, not disparity)");
            }
            settings.put("adapters", ck.adapters().layers().size() + " modules, r " + ck.r() + ", alpha "
                    + fmt(ck.alpha()) + (ck.rslora() ? " (rslora)" : "") + ", scaling " + fmt(ck.scaling().value()));
            settings.put("alpha scale", fmt(alphaScale));
            settings.put("data", in.data().root() + " (" + in.data().imagesDir() + "/, " + in.data().depthDir()
                    + "/; split " + split + ")");
            settings.put("network size", prep.description());
            new EvalReport(r, settings, model.run().lossPlot()).write(dir, panels);
            return r;
        }
    }

    /** The one line per checkpoint: metric models' absolute figures first, then the aligned ones. */
    private static String summaryLine(Path checkpoint, EvalResult r, Path report) {
        String images = r.images().size() + " images" + (r.partial()
                ? " (" + BatchFailures.leftOut(r.leftOut().size(), r.pairs(), "pairs") + ")" : "");
        if (r.absolute()) {
            return String.format(Locale.ROOT, "%s: %s, absolute AbsRel %.4f (original %.4f), delta1 %.4f "
                    + "(original %.4f), RMSE %.1f mm (original %.1f mm); aligned AbsRel %.4f (original %.4f) -> %s",
                    checkpoint, images, r.loraAbsolute().absRel(), r.originalAbsolute().absRel(),
                    r.loraAbsolute().delta1(), r.originalAbsolute().delta1(), r.loraAbsolute().rmse(),
                    r.originalAbsolute().rmse(), r.lora().absRel(), r.original().absRel(), report);
        }
        return String.format(Locale.ROOT, "%s: %s, AbsRel %.4f (original %.4f), delta1 %.4f (original %.4f) -> %s",
                checkpoint, images, r.lora().absRel(), r.original().absRel(), r.lora().delta1(),
                r.original().delta1(), report);
    }

    /**
     * Runs the evaluator with its pictures written to {@code panels.tmp/} beside {@code panels},
     * moved into place when the run ends: a pair that cannot be read or predicted is left out (recorded in
     * {@code failures}; it has no picture), and a run that stops (fail-fast, an interrupt, an error that is
     * no pair's) leaves no partial panels/ (and an older complete one stays).
     */
    static EvalResult evaluate(Evaluator ev, List<Pair> pairs, Function<Pair, EvalSample> loader, Path panels,
            BatchFailures failures) {
        Function<Pair, Evaluator.Item> id = p -> new Evaluator.Item(p.stem(), p.image());
        if (panels == null) {
            return ev.run(pairs, id, loader, null, failures);
        }
        Path staging = panels.resolveSibling(panels.getFileName() + ".tmp");
        AtomicFiles.deleteTree(staging);
        Interrupts.Scope cleanup = Interrupts.onInterrupt(() -> AtomicFiles.deleteTree(staging));
        EvalResult r;
        try {
            r = ev.run(pairs, id, loader, staging, failures);
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

    /**
     * Each checkpoint's label, unique (its row and its compare/ folder): the folder's name (with the run's
     * for best/ and epoch-N/), and where two share one, more of their parent folders until they differ
     * ({@code runA_smoke_best}, {@code runB_smoke_best}). One checkpoint given twice is refused.
     */
    static List<String> labels(List<Path> checkpoints) {
        Map<Path, Path> seen = new LinkedHashMap<>();
        for (Path ck : checkpoints) {
            Path before = seen.putIfAbsent(real(ck), ck);
            if (before != null) {
                throw LoraException.file(ck, "is given twice (as " + before + " and " + ck + "); each checkpoint of "
                        + "--checkpoint and --compare once");
            }
        }
        int[] extra = new int[checkpoints.size()];
        List<String> labels = new ArrayList<>();
        for (int round = 0; ; round++) {
            labels.clear();
            for (int k = 0; k < checkpoints.size(); k++) {
                labels.add(label(checkpoints.get(k), extra[k]));
            }
            Map<String, Integer> count = new HashMap<>();
            labels.forEach(l -> count.merge(l.toLowerCase(Locale.ROOT), 1, Integer::sum));
            boolean grew = false;
            for (int k = 0; k < labels.size() && round < 256; k++) {
                if (count.get(labels.get(k).toLowerCase(Locale.ROOT)) > 1 && !label(checkpoints.get(k), extra[k] + 1)
                        .equals(labels.get(k))) {
                    extra[k]++;
                    grew = true;
                }
            }
            if (!grew) {
                return labels; // unique, or as unique as the paths allow (OutputNames refuses the rest)
            }
        }
    }

    /** The label with {@code extra} more parent folders in front. */
    private static String label(Path ck, int extra) {
        Path a = ck.toAbsolutePath().normalize();
        String n = a.getFileName() == null ? a.toString() : a.getFileName().toString();
        Path p = a.getParent();
        if ((n.equals("best") || n.startsWith("epoch-")) && p != null && p.getFileName() != null) {
            if (p.getFileName().toString().equals("checkpoints") && p.getParent() != null
                    && p.getParent().getFileName() != null) {
                p = p.getParent();
            }
            n = p.getFileName() + "/" + n;
            p = p.getParent();
        }
        for (int i = 0; i < extra && p != null && p.getFileName() != null; i++, p = p.getParent()) {
            n = p.getFileName() + "/" + n;
        }
        return n.replace('/', '_');
    }

    private static void removeIfEmpty(Path dir) {
        try (var s = Files.list(dir)) {
            if (s.findAny().isEmpty()) {
                Files.deleteIfExists(dir);
            }
        } catch (IOException e) {
            // left as it is: an empty folder is harmless
        }
    }

    private static Path real(Path p) {
        try {
            return p.toRealPath();
        } catch (IOException e) {
            return p.toAbsolutePath().normalize();
        }
    }

    public static String fmt(double v) {
        return v == Math.rint(v) ? Long.toString((long) v)
                : new BigDecimal(String.format(Locale.ROOT, "%.4g", v)).stripTrailingZeros().toPlainString();
    }

    /** A model built on first use (the original is often served from the cache alone). */
    static final class LazyModel implements DepthModel, AutoCloseable {
        private final NDManager root;
        private final ResolvedModel model;
        private final double alphaScale;
        private NDManager manager;
        private DepthPredictor predictor;

        /** {@code model} with its adapters at {@code alphaScale} (0: the original model). */
        LazyModel(NDManager root, ResolvedModel model, double alphaScale) {
            this.root = root;
            this.model = model;
            this.alphaScale = alphaScale;
        }

        @Override
        public float[] predict(EvalSample s) {
            if (predictor == null) {
                try {
                    manager = root.newSubManager();
                    predictor = new DepthPredictor(model.instantiate(manager, alphaScale), model.preprocessing());
                } catch (RuntimeException e) {
                    throw BatchFailures.stopsTheBatch(e); // no pair's fault: every pair would fail the same way
                }
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
