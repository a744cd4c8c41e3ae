package com.loratool.sweep;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.loratool.LoraException;
import com.loratool.config.ConfigLoader;
import com.loratool.config.DataConfig;
import com.loratool.config.GridSpec;
import com.loratool.config.RunConfig;
import com.loratool.data.CameraIntrinsics;
import com.loratool.data.Dataset;
import com.loratool.data.Pair;
import com.loratool.data.Pairing;
import com.loratool.data.Split;
import com.loratool.eval.EvalResult;
import com.loratool.eval.EvalSample;
import com.loratool.io.AtomicFiles;
import com.loratool.io.BatchFailures;
import com.loratool.io.Checksums;
import com.loratool.io.FolderLock;
import com.loratool.io.HostTensor;
import com.loratool.io.Interrupts;
import com.loratool.io.Json;
import com.loratool.checkpoint.ModelResolver;
import com.loratool.checkpoint.ModelSource;
import com.loratool.checkpoint.ResolvedModel;
import com.loratool.lora.AdapterCheckpoint;
import com.loratool.lora.export.AdaptedWeights;
import com.loratool.model.Compute;
import com.loratool.model.ModelConfig;
import com.loratool.train.Checkpoints;
import com.loratool.train.MetricsCsv;
import com.loratool.train.TrainRun;
import com.loratool.train.Trainer;
import com.loratool.train.TrainingListener;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * {@code lora sweep}: every combination of a grid ({@link GridSpec}, any run-config key) trained
 * and evaluated under k-fold cross-validation, optionally also on a retention set, in one process.
 *
 * <p>Folds: {@link Split#fold} with the combination's {@code data.seed} (pairs sorted by stem,
 * shuffled with {@code Random(seed)}, position i in fold i % k); {@code --folds 1} is the run's own
 * {@code val_fraction} split. Each cell trains into {@code <output>/runs/<cell>/} on the other
 * folds and is evaluated from its last epoch's adapters (no checkpoint chosen on the held-out
 * fold) against the frozen base on the held-out fold. Finished cells are kept in
 * {@code <output>/cells/<cell>.json}; a rerun with the same arguments trains only the others,
 * other arguments are refused ({@code sweep.json} records them).
 *
 * <p>SIGINT/SIGTERM ({@link Interrupts}): the cells run cooperatively, so a signal stops the sweep at
 * the next safe point (before a cell, a training step, an evaluated image) with an
 * {@link Interrupts.Interrupted} that says how many cells are done. An interrupt is never a cell's
 * failure ({@link BatchFailures#reasonOf}): the unfinished cell is not recorded and is trained on the
 * rerun, and no report or best.yaml is written until every cell has its result.
 */
public final class SweepRunner {
    /** What the sweep is asked to do. {@code sets}: {@code key=value} overrides of the base config for every cell. */
    public record Options(Path config, List<String> sets, String grid, int folds, Path retention, Path output,
                          boolean yes, boolean quiet, PrintStream log) {}

    /** A finished sweep: every cell, the report, the winning config (null when no combination finished). */
    public record Outcome(Path output, List<CellResult> cells, SweepReport report, Path bestYaml, double wallSeconds,
                          int trainedCells) {}

    public static final int MAX_CELLS_WITHOUT_YES = 200;
    static final String SWEEP_FILE = "sweep.json";

    private final Options o;

    public SweepRunner(Options o) {
        this.o = o;
    }

    /** One combination: its overrides and its resolved config. */
    record Combination(List<String> overrides, RunConfig config) {
        String label() {
            return overrides.isEmpty() ? "(base config)" : String.join(", ", overrides);
        }
    }

    public Outcome run() {
        // SIGINT/SIGTERM from here on: stop at the next safe point (before a cell, a training step, an evaluated image)
        try (Interrupts.Scope coop = Interrupts.cooperate()) {
            return runCooperatively();
        }
    }

    private Outcome runCooperatively() {
        long t0 = System.nanoTime();
        List<Combination> combos = combinations();
        RunConfig first = combos.get(0).config();
        if (o.folds() < 1) {
            throw new LoraException("--folds " + o.folds() + ": must be >= 1 (1 = the run's own validation split)");
        }
        for (Combination c : combos) {
            int pairs = Pairing.pair(c.config().data).pairs().size();
            if (o.folds() > pairs) {
                throw new LoraException("--folds " + o.folds() + ": more folds than the " + pairs + " image/depth pairs in "
                        + c.config().data.root());
            }
            if (o.folds() == 1 && Split.of(Pairing.pair(c.config().data).pairs(), c.config().data.valFraction(),
                    c.config().data.maxTrainImages(), c.config().data.seed()).val().isEmpty()) {
                throw new LoraException("--folds 1: the run's split has no validation images (data.val_fraction "
                        + c.config().data.valFraction() + ")");
            }
        }
        long cells = (long) combos.size() * o.folds();
        if (cells > MAX_CELLS_WITHOUT_YES && !o.yes()) {
            throw new LoraException("--grid: " + combos.size() + " combinations x " + o.folds() + " folds = " + cells
                    + " cells (more than " + MAX_CELLS_WITHOUT_YES + "); add --yes to run them all");
        }
        List<Pair> retentionPairs = retentionPairs(first.data);
        Compute.setThreads(first.train.threads());
        try (NDManager root = NDManager.newBaseManager(Compute.device(first.train.device().name()));
                CellEvaluator eval = new CellEvaluator(root)) {
            if (retentionPairs != null) {
                DataConfig rdc = first.data.with("root", o.retention().toString());
                List<EvalSample> rs = eval.samples(rdc, retentionPairs);
                if (!CellEvaluator.anyValidDepth(rs)) {
                    throw LoraException.file(o.retention(), "--retention: no pair has valid depth (all NaN, inf or <= 0)");
                }
                refuseTrainingImages(combos, retentionPairs);
            }
            checkOrWriteFingerprint(combos.size());
            try (FolderLock lock = FolderLock.acquire(o.output(), "lora sweep")) {
                return sweep(combos, retentionPairs, eval, t0);
            }
        }
    }

    /** The grid's combinations, each resolved and validated (errors name the grid axis). */
    List<Combination> combinations() {
        GridSpec spec = GridSpec.parse(o.grid(), Set.of());
        if (spec.isEmpty()) {
            throw new LoraException("--grid: empty; give at least one axis, e.g. --grid \"lora.r=4,8; train.lr=1e-4,3e-4\"");
        }
        for (String key : spec.keys()) {
            if (key.equals("train.output_dir") || key.equals("train.run_name")) {
                throw new LoraException("--grid: axis '" + key + "': the sweep names its runs itself (under --output)");
            }
        }
        ConfigLoader.load(o.config(), o.sets()); // the base config's own errors first, as they are
        long size = spec.size();
        if (size > 100_000) {
            throw new LoraException("--grid: " + size + " combinations");
        }
        List<Combination> out = new ArrayList<>();
        for (Map<String, String> c : spec.combinations()) {
            List<String> ov = new ArrayList<>();
            c.forEach((k, v) -> ov.add(k + "=" + v));
            List<String> all = new ArrayList<>(o.sets());
            all.addAll(ov);
            RunConfig cfg;
            try {
                cfg = ConfigLoader.load(o.config(), all);
            } catch (LoraException e) {
                String m = e.getMessage();
                for (String k : c.keySet()) {
                    if (m.startsWith("--set " + k)) {
                        throw new LoraException("--grid: axis " + m.substring("--set ".length()), e);
                    }
                }
                throw new LoraException("--grid " + String.join(", ", ov) + ": " + m, e);
            }
            out.add(new Combination(List.copyOf(ov), cfg));
        }
        return out;
    }

    private List<Pair> retentionPairs(DataConfig dc) {
        if (o.retention() == null) {
            return null;
        }
        if (!Files.isDirectory(o.retention())) {
            throw LoraException.file(o.retention(), "--retention: no such folder");
        }
        List<Pair> p = Pairing.pair(dc.with("root", o.retention().toString())).pairs();
        if (p.isEmpty()) {
            throw LoraException.file(o.retention(), "--retention: no image/depth pairs (" + dc.imagesDir() + "/ and "
                    + dc.depthDir() + "/)");
        }
        return p;
    }

    /**
     * The retention set must not hold training images: every pair under a combination's data.root is
     * trained on in some fold, so "retention" there would be in-domain figures under an out-of-domain
     * name. Refused (not warned: the columns, the plot and the Pareto front would all be wrong, and a
     * sweep runs for hours) when it is the same folder, or when an image is the same file as a training
     * image or has the same bytes.
     */
    private void refuseTrainingImages(List<Combination> combos, List<Pair> retention) {
        Map<Path, List<Pair>> roots = new LinkedHashMap<>();
        for (Combination c : combos) {
            roots.computeIfAbsent(c.config().data.rootPath().toAbsolutePath().normalize(),
                    k -> Pairing.pair(c.config().data).pairs());
        }
        for (Map.Entry<Path, List<Pair>> e : roots.entrySet()) {
            if (sameFile(o.retention(), e.getKey())) {
                throw LoraException.file(o.retention(), "--retention: is the training data (data.root " + e.getKey()
                        + "); retention is measured on images the sweep does not train on, give another data folder");
            }
            Map<Long, List<Path>> bySize = new HashMap<>();
            for (Pair p : e.getValue()) {
                bySize.computeIfAbsent(size(p.image()), k -> new ArrayList<>()).add(p.image());
            }
            int same = 0;
            String example = null;
            Map<Path, String> hashes = new HashMap<>(); // each file read once, however many same-size files it meets
            for (Pair r : retention) {
                for (Path t : bySize.getOrDefault(size(r.image()), List.of())) {
                    if (sameFile(r.image(), t) || hashes.computeIfAbsent(r.image(), Checksums::sha256)
                            .equals(hashes.computeIfAbsent(t, Checksums::sha256))) {
                        same++;
                        example = example != null ? example : r.image() + " is " + t;
                        break;
                    }
                }
            }
            if (same > 0) {
                throw LoraException.file(o.retention(), "--retention: " + same + " of " + retention.size()
                        + " images are training images of data.root " + e.getKey() + " (" + example + "); retention is"
                        + " measured on images the sweep does not train on");
            }
        }
    }

    private static boolean sameFile(Path a, Path b) {
        try {
            return Files.isSameFile(a, b);
        } catch (IOException e) {
            return false;
        }
    }

    private static long size(Path p) {
        try {
            return Files.size(p);
        } catch (IOException e) {
            return -1;
        }
    }

    /** The arguments that decide the cells' results; a rerun must match them. */
    private ObjectNode fingerprint(int combinations) {
        ObjectNode n = Json.JSON.createObjectNode();
        n.put("config", o.config().toString());
        n.put("config_sha256", Checksums.sha256(o.config()));
        n.set("set", Json.JSON.valueToTree(o.sets()));
        n.put("grid", o.grid().trim());
        n.put("folds", o.folds());
        n.put("retention", o.retention() == null ? null : o.retention().toString());
        n.put("combinations", combinations);
        return n;
    }

    private void checkOrWriteFingerprint(int combinations) {
        ObjectNode now = fingerprint(combinations);
        Path f = o.output().resolve(SWEEP_FILE);
        if (Files.isRegularFile(f)) {
            JsonNode before;
            try {
                before = Json.JSON.readTree(f.toFile());
            } catch (IOException e) {
                throw LoraException.file(f, "not valid JSON (" + e.getMessage().lines().findFirst().orElse("") + ")");
            }
            for (Iterator<String> it = now.fieldNames(); it.hasNext(); ) {
                String k = it.next();
                if (!now.get(k).equals(before.get(k))) {
                    String what = k.equals("config_sha256") ? "the config file " + o.config() + " has changed since"
                            : k + " was " + before.path(k) + ", now " + now.get(k);
                    throw LoraException.file(o.output(), "holds a sweep made with other arguments (" + what
                            + "); rerun with the same arguments to continue it, or pick another --output");
                }
            }
            return;
        }
        if (Files.exists(o.output()) && !isEmptyDir(o.output())) {
            throw LoraException.file(o.output(), "exists and is not a sweep folder (no " + SWEEP_FILE + "); pick another --output");
        }
        try {
            Files.createDirectories(o.output());
        } catch (IOException e) {
            throw LoraException.file(o.output(), "cannot create (" + e.getMessage() + ")", e);
        }
        AtomicFiles.writeString(f, now.toPrettyString() + "\n");
    }

    private static boolean isEmptyDir(Path d) {
        try (var s = Files.list(d)) {
            return s.findAny().isEmpty();
        } catch (IOException e) {
            return false;
        }
    }

    /** The files made from every cell's result; none of them is there while a cell is left to train. */
    static final List<String> REPORTS = List.of("results.md", "results.csv", "results.json", "sweep.png", "best.yaml");

    /** The cell's result, or null when it has none yet (no file, or an interrupt an older version recorded). */
    private static CellResult result(Path cellFile) {
        if (!Files.isRegularFile(cellFile)) {
            return null;
        }
        CellResult r = CellResult.read(cellFile);
        return r.interrupted() ? null : r;
    }

    private Outcome sweep(List<Combination> combos, List<Pair> retentionPairs, CellEvaluator eval, long t0) {
        Map<String, ResolvedModel> weights = new HashMap<>();
        Map<String, Dataset> datasets = new HashMap<>();
        Map<String, CameraIntrinsics> cameras = new HashMap<>();
        List<CellResult> results = new ArrayList<>();
        int total = combos.size() * o.folds();
        int trained = 0;
        Path cellsDir = o.output().resolve("cells");
        try (ProgressBar bar = o.quiet() ? null : new ProgressBarBuilder().setTaskName("sweep").setInitialMax(total)
                .setStyle(ProgressBarStyle.ASCII).setUpdateIntervalMillis(500).continuousUpdate()
                .setConsumer(new ConsoleProgressBarConsumer(o.log())).build()) {
            for (int c = 0; c < combos.size(); c++) {
                for (int f = 0; f < o.folds(); f++) {
                    String id = CellResult.id(c, f);
                    Path cellFile = cellsDir.resolve(id + ".json");
                    CellResult r = result(cellFile);
                    if (r == null) {
                        if (trained == 0) {
                            removeReports(); // made from other cells than the ones this sweep will have
                        }
                        try {
                            Interrupts.checkpoint(() -> "before cell " + id);
                        } catch (Interrupts.Interrupted stop) {
                            throw stopped(stop, id, combos.size(), false);
                        }
                        try {
                            r = runCell(c, f, combos.get(c), retentionPairs, eval, weights, datasets, cameras, bar);
                        } catch (Interrupts.Interrupted stop) {
                            throw stopped(stop, id, combos.size(), true);
                        }
                        r.write(cellFile);
                        trained++;
                        if (o.quiet()) {
                            o.log().printf(Locale.ROOT, "sweep %s (%d/%d): %s%n", id, c * o.folds() + f + 1, total,
                                    r.done() ? String.format(Locale.ROOT, "AbsRel %.4f (base %.4f)", r.lora().absRel(),
                                    r.base().absRel()) : "failed: " + r.reason());
                        }
                    }
                    results.add(r);
                    if (bar != null) {
                        bar.step();
                    }
                }
            }
        }
        List<String> labels = combos.stream().map(Combination::label).toList();
        SweepReport report = new SweepReport(labels, o.folds(), results, retentionPairs != null);
        double wall = (System.nanoTime() - t0) / 1e9;
        report.write(o.output(), wall, trained);
        Path best = null;
        int b = report.bestCombination();
        if (b >= 0) {
            best = o.output().resolve("best.yaml");
            RunConfig winner = combos.get(b).config();
            if (winner.train.runName() == null || winner.train.runName().isBlank()) {
                // runs/<sweep>-best/ rather than runs/best/ (the run name would come from best.yaml's name)
                winner = winner.with("train.run_name", o.output().toAbsolutePath().normalize().getFileName() + "-best");
            }
            String header = "# lora sweep " + o.output() + ": the winning combination (" + combos.get(b).label()
                    + "),\n# mean held-out AbsRel over " + o.folds() + " folds; train it on all the data with\n"
                    + "#   lora train --config " + best + "\n";
            AtomicFiles.writeString(best, header + winner.toYaml());
        }
        return new Outcome(o.output(), List.copyOf(results), report, best, wall, trained);
    }

    /**
     * The interrupt before ({@code inCell} false) or in cell {@code id}, saying where it stopped (the safe
     * point's {@link Interrupts.Interrupted#where}) and how many cells are done (the command adds how to continue).
     * The unfinished cell has no result: the rerun trains it from the start.
     */
    private Interrupts.Interrupted stopped(Interrupts.Interrupted stop, String id, int combinations, boolean inCell) {
        String where = stop.where() != null ? stop.where() : stop.getMessage();
        int done = 0;
        for (int c = 0; c < combinations; c++) {
            for (int f = 0; f < o.folds(); f++) {
                done += result(o.output().resolve("cells").resolve(CellResult.id(c, f) + ".json")) != null ? 1 : 0;
            }
        }
        String at = !inCell ? where : "in cell " + id + " (" + where + "; it starts over on the rerun)";
        return stop.withMessage(Interrupts.Interrupted.heading(stop.signalName()) + at + "; " + done + " of " + combinations * o.folds() + " cells done"
                + (done > 0 ? ", kept in " + o.output().resolve("cells") : ""));
    }

    private void removeReports() {
        for (String f : REPORTS) {
            try {
                Files.deleteIfExists(o.output().resolve(f));
            } catch (IOException e) {
                throw LoraException.file(o.output().resolve(f), "cannot remove the report of an earlier run ("
                        + e.getMessage() + ")", e);
            }
        }
    }

    /**
     * The camera of {@code dc}'s images when {@code base} is a da3metric model (null for the others):
     * {@link TrainRun#da3MetricIntrinsics}, fitted once per data folder for the whole sweep (each cloud
     * read once, not once per cell).
     */
    private static CameraIntrinsics camera(RunConfig cfg, DataConfig dc, ResolvedModel base,
                                           Map<String, CameraIntrinsics> cameras, ProgressBar bar) {
        if (base.architecture().family() != ModelConfig.Family.DA3METRIC) {
            return null;
        }
        // per data folder and reading (the key holds npz_key); a combination with random crops (a grid axis may add
        // them) is never served a cached camera: its fit refuses, its cells fail with the reason
        String key = dc.rootPath().toAbsolutePath().normalize() + "|" + dc.preprocessingKey() + "|crops="
                + cfg.data.augment().crops();
        CameraIntrinsics k = cameras.get(key);
        if (k == null) {
            if (bar != null) {
                bar.setExtraMessage("fitting the camera of " + dc.root());
            }
            k = TrainRun.da3MetricIntrinsics(cfg.with("data", dc), base.architecture(), null);
            cameras.put(key, k);
        }
        return k;
    }

    private CellResult runCell(int c, int f, Combination combo, List<Pair> retentionPairs, CellEvaluator eval,
                               Map<String, ResolvedModel> weights, Map<String, Dataset> datasets,
                               Map<String, CameraIntrinsics> cameras, ProgressBar bar) {
        RunConfig base = combo.config();
        RunConfig cfg = base.with(Map.of("train.output_dir", o.output().resolve("runs").toString(),
                "train.run_name", CellResult.id(c, f)));
        String id = CellResult.id(c, f);
        try {
            String baseKey = cfg.model + "#seed=" + cfg.train.seed();
            ResolvedModel w = weights.computeIfAbsent(baseKey, k -> ModelResolver.resolve(new ModelSource.Run(cfg), ModelResolver.Options.DEFAULT.runs("sweep", ModelResolver.Da3.ALL)));
            Dataset all = datasets.computeIfAbsent(cfg.data.rootPath().toAbsolutePath() + "|" + cfg.data.preprocessingKey(),
                    k -> Dataset.open(cfg.data));
            Split split = o.folds() == 1
                    ? Split.of(all.pairing().pairs(), cfg.data.valFraction(), cfg.data.maxTrainImages(), cfg.data.seed())
                    : Split.fold(all.pairing().pairs(), o.folds(), f, cfg.data.seed());
            Dataset ds = all.withSplit(split, cfg.data);
            // a da3metric base: the camera of the data (its focal gives metres), fitted once per data set
            CameraIntrinsics camera = camera(cfg, cfg.data, w, cameras, bar);
            TrainRun run = new TrainRun(cfg, null).reuse(ds, w, camera); // its log: runs/<cell>/train.log
            List<TrainingListener> listeners = new ArrayList<>();
            if (bar != null) {
                listeners.add(new TrainingListener() {
                    private int epoch;

                    @Override
                    public void onEpochStart(int e, int images) {
                        epoch = e;
                        bar.setExtraMessage(String.format(Locale.ROOT, "%s epoch %d/%d", id, e, cfg.train.epochs()));
                    }

                    @Override
                    public void onTrainingBatch(int images, double meanLoss) {
                        bar.setExtraMessage(String.format(Locale.ROOT, "%s epoch %d/%d loss %.4f", id, epoch,
                                cfg.train.epochs(), meanLoss));
                    }
                });
            }
            long t = System.nanoTime();
            Trainer.Result tr = run.train(new TrainRun.Settings(false, true, true, true, listeners));
            double trainS = (System.nanoTime() - t) / 1e9;
            double epochS = tr.rows().stream().mapToDouble(MetricsCsv.Row::seconds).sum();
            t = System.nanoTime();
            Path last = new Checkpoints(cfg.runDir(), cfg.train.keepLast()).latest();
            AdapterCheckpoint ck = AdapterCheckpoint.load(last);
            Map<String, HostTensor> merged = AdaptedWeights.merged(w.baseWeights(), ck, 1.0);
            if (bar != null) {
                bar.setExtraMessage(id + " eval");
            }
            EvalResult in = eval.evaluate(w, baseKey, merged, cfg.data, split.val(), camera);
            CellResult.Metrics retL = null;
            CellResult.Metrics retB = null;
            if (retentionPairs != null) {
                DataConfig rdc = cfg.data.with("root", o.retention().toString());
                EvalResult rr = eval.evaluate(w, baseKey, merged, rdc, retentionPairs, camera(cfg, rdc, w, cameras, bar));
                retL = CellResult.Metrics.lora(rr);
                retB = CellResult.Metrics.base(rr);
            }
            double evalS = (System.nanoTime() - t) / 1e9;
            return new CellResult(c, f, combo.overrides(), CellResult.DONE, null, in.images().size(), in.absolute(),
                    CellResult.Metrics.lora(in), CellResult.Metrics.base(in), retL, retB, tr.epochsRun(), trainS, epochS,
                    evalS, w.architecture().isDa3());
        } catch (RuntimeException e) {
            String reason = BatchFailures.reasonOf(e); // an interrupt is never the cell's failure: thrown on
            if (!o.quiet()) {
                o.log().println("sweep " + id + " failed: " + reason);
            }
            return new CellResult(c, f, combo.overrides(), CellResult.FAILED, reason, 0, false, null, null, null, null, 0,
                    0, 0, 0, false);
        }
    }
}
