package com.loratool.cli;

import com.loratool.LoraException;
import com.loratool.api.DepthEstimator;
import com.loratool.config.DataConfig;
import com.loratool.data.CompletionEval;
import com.loratool.data.DepthMap;
import com.loratool.data.DepthReader;
import com.loratool.data.Pair;
import com.loratool.data.Pairing;
import com.loratool.io.AtomicFiles;
import com.loratool.io.BatchFailures;
import com.loratool.io.Npy;
import com.loratool.io.NpyArray;
import com.loratool.io.OutputGuard;
import com.loratool.metrics.MetricDepth;
import com.loratool.model.Compute;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code lora eval-completion}: how well predict --complete fills holes, on holes punched into
 * measured areas (a separate command so that {@code lora eval} stays the adapters' report).
 */
@Command(name = "eval-completion", mixinStandardHelpOptions = true,
        description = {"Measure depth completion (lora predict --align-to --complete) where the answer is known: "
                + "seeded random blobs of measured pixels are hidden, the prediction is aligned to the rest, and the "
                + "fill is compared with the hidden values, next to nearest-neighbour filling and the aligned "
                + "prediction alone (MAE and RMSE in mm, AbsRel; docs/geometry.md).",
            "A pair that cannot be read or predicted is left out of the table and the 'all' row (which says how many "
                + "were) and listed at the end with the reason; the exit code is then 1 (--fail-fast: stop at it, "
                + "exit 2)."})
final class CompletionEvalCommand implements Callable<Integer> {
    @Option(names = "--data", required = true, paramLabel = "DIR", description = "Data folder (images/ + depth/).")
    Path data;

    @Option(names = "--predictions", paramLabel = "DIR",
            description = "Relative predictions from lora predict (<image stem>.npy); instead of a model.")
    Path predictions;

    @Option(names = "--predictions-unit", defaultValue = "disparity", paramLabel = "disparity|mm",
            description = "What the --predictions files hold: a relative model's disparity, or a metric model's depth "
                    + "in mm (as lora predict writes for metric models). Default: ${DEFAULT-VALUE}.")
    String predictionsUnit;

    @Option(names = "--hole-fraction", defaultValue = "0.1",
            description = "Share of each image's measured pixels hidden. Default: ${DEFAULT-VALUE}.")
    double holeFraction;

    @Option(names = "--seed", defaultValue = "0", description = "Seed of the holes. Default: ${DEFAULT-VALUE}.")
    long seed;

    @Option(names = "--align", defaultValue = "ls", paramLabel = "ls|robust",
            description = "Scale-and-shift fit (as lora predict). Default: ${DEFAULT-VALUE}.")
    String align;

    @Option(names = "--output", paramLabel = "FILE.csv", description = "Also write the table as CSV.")
    Path output;

    @Mixin
    ModelOptions model;

    @Mixin
    ModelOptions.InputSize inputSize;

    @Mixin
    CommonOptions common;

    @Mixin
    FailFastOption failFast;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        if (!align.equals("ls") && !align.equals("robust")) {
            throw new LoraException("--align " + align + ": expected ls or robust");
        }
        if (!(holeFraction > 0 && holeFraction < 1)) {
            throw new LoraException("--hole-fraction " + holeFraction + ": must be in (0, 1)");
        }
        if ((predictions == null) == !model.given()) {
            throw new LoraException("give either --predictions DIR or a model (--weights FILE / --checkpoint DIR)");
        }
        DataConfig cfg = DataConfig.defaults(data);
        // every file it reads: the data set, the predictions or the model's files (a checkpoint's base weights too)
        OutputGuard.of("--output", output).input("--data", data).input("--predictions", predictions)
                .inputs(model.files()).check();
        Pairing.Result pairs = Pairing.pair(cfg);
        PrintWriter out = spec.commandLine().getOut();
        StringBuilder csv = new StringBuilder("image,pixels,completion_mae_mm,completion_rmse_mm,completion_absrel,"
                + "nearest_mae_mm,nearest_rmse_mm,nearest_absrel,aligned_mae_mm,aligned_rmse_mm,aligned_absrel\n");
        String fmt = "%-40s %8s  %9s %9s %8s  %9s %9s %8s  %9s %8s%n";
        out.printf(fmt, "image", "pixels", "compl mm", "rmse mm", "absrel", "nn mm", "rmse mm", "absrel", "pred mm",
                "absrel");
        Compute.setThreads(common.threads);
        // the fit works on disparity: a metric model's depth (m, or mm from files) is inverted first
        boolean metricFiles = predictionsUnit.equals("mm");
        if (!predictionsUnit.equals("disparity") && !metricFiles) {
            throw new LoraException("--predictions-unit " + predictionsUnit + ": expected disparity or mm");
        }
        List<Pair> list = pairs.pairs();
        BatchFailures failures = failFast.failures(list.size());
        CompletionEval.Result[] total = {CompletionEval.Result.NONE};
        // the model as lora predict opens it (one loader, one size rule), unless predictions are given
        try (DepthEstimator estimator = predictions != null ? null
                : DepthEstimator.of(model.resolve(inputSize.value(), "eval-completion"), common.device.name())) {
            boolean metric = estimator != null ? estimator.config().isMetric() : metricFiles;
            for (int k = 0; k < list.size(); k++) {
                Pair p = list.get(k);
                long holeSeed = seed + k; // the pair's own holes, whichever pairs fail
                failures.attempt(p.image(), () -> {
                    DepthMap z = DepthReader.read(p.depth(), cfg);
                    float[] pred = estimator != null ? estimator.predict(p.image()).values() : readPrediction(p.image(), z);
                    if (metric) {
                        pred = MetricDepth.disparity(estimator != null ? pred : MetricDepth.fromMm(pred));
                    }
                    if (pred.length != z.z().length) {
                        throw LoraException.file(p.image(), "image and depth " + p.depth().getFileName() + " differ in size");
                    }
                    if (z.countMeasured() < 10) {
                        out.printf("%-40s skipped: fewer than 10 measured pixels%n", p.stem());
                        return;
                    }
                    boolean[] holes = CompletionEval.punchHoles(z.z(), z.h(), z.w(), holeFraction, holeSeed);
                    CompletionEval.Result r = CompletionEval.evaluate(pred, z.z(), holes, z.h(), z.w(),
                            align.equals("robust"));
                    total[0] = total[0].plus(r);
                    row(out, fmt, csv, p.stem(), r);
                });
            }
        }
        int failed = failures.failures().size();
        row(out, fmt, csv, "all (pixel-weighted" + (failed == 0 ? ")"
                : "; " + BatchFailures.leftOut(failed, list.size(), "pairs") + ")"), total[0]);
        if (output != null) {
            AtomicFiles.writeString(output, csv.toString());
        }
        return failures.finish("eval-completion", list.size(), spec.commandLine().getErr());
    }

    private float[] readPrediction(Path image, DepthMap z) {
        Path f = predictions.resolve(PredictCommand.stem(image) + ".npy");
        NpyArray a = Npy.read(f);
        if (a.shape().length != 2 || a.shape()[0] != z.h() || a.shape()[1] != z.w()) {
            throw LoraException.file(f, "expected an " + z.h() + " x " + z.w() + " prediction, got " + a.shapeString());
        }
        return a.data();
    }

    private static void row(PrintWriter out, String fmt, StringBuilder csv, String name, CompletionEval.Result r) {
        CompletionEval.Errors c = r.completion();
        CompletionEval.Errors n = r.nearest();
        CompletionEval.Errors a = r.aligned();
        out.printf(Locale.ROOT, fmt, name, c.n(), f(c.maeMm()), f(c.rmseMm()), g(c.absRel()), f(n.maeMm()),
                f(n.rmseMm()), g(n.absRel()), f(a.maeMm()), g(a.absRel()));
        csv.append(String.format(Locale.ROOT, "%s,%d,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g%n", name, c.n(),
                c.maeMm(), c.rmseMm(), c.absRel(), n.maeMm(), n.rmseMm(), n.absRel(), a.maeMm(), a.rmseMm(),
                a.absRel()));
    }

    private static String f(double v) {
        return String.format(Locale.ROOT, "%.3f", v);
    }

    private static String g(double v) {
        return String.format(Locale.ROOT, "%.5f", v);
    }
}
