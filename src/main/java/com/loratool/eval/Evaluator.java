package com.loratool.eval;

import com.loratool.data.CameraIntrinsics;
import com.loratool.io.BatchFailures;
import com.loratool.metrics.Alignment;
import com.loratool.metrics.DepthAlignment;
import com.loratool.metrics.DepthMetrics;
import com.loratool.metrics.DisparityAlignment;
import com.loratool.metrics.MetricDepth;
import com.loratool.model.ModelConfig;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import org.opencv.core.Mat;

/**
 * Runs the LoRA model and the original on the same images, scores both
 * ({@link DisparityAlignment#evaluate}) and draws one panel picture per image into
 * {@code panelDir} (null: no pictures). For metric models (output in metres) it also scores the
 * predictions as they are ({@link MetricDepth#absolute}), aligns their disparity {@code 1/pred}
 * (V2) or their depth (Depth Anything 3's DA3METRIC, in metres through {@link Da3Metres}) for the
 * aligned metrics, and draws the unaligned predictions in mm.
 */
public final class Evaluator {
    private final DepthModel lora;
    private final DepthModel original;
    private final String loraTitle;
    private final boolean errorMaps;
    private final boolean metric;
    /** Both models predict relative DEPTH (Depth Anything 3): aligned in depth, not in disparity. */
    private boolean depthOutput;
    /** Where the progress bar goes; null: none. */
    private PrintStream progress = System.err;

    /** Models of relative depth. */
    public Evaluator(DepthModel lora, DepthModel original, String loraTitle, boolean errorMaps) {
        this(lora, original, loraTitle, errorMaps, false);
    }

    /** {@code metric}: both models predict depth in metres (a metric base). */
    public Evaluator(DepthModel lora, DepthModel original, String loraTitle, boolean errorMaps, boolean metric) {
        this.lora = lora;
        this.original = original;
        this.loraTitle = loraTitle;
        this.errorMaps = errorMaps;
        this.metric = metric;
    }

    /**
     * The evaluator of two models of {@code architecture}, scored as its kind is: V2 relative
     * (disparity aligned to 1/Z), V2 metric (metres), da3mono (depth aligned to Z), da3metric (metres
     * = focal x output / 300 through {@link Da3Metres}, the focal that of {@code camera}, which only
     * da3metric needs). {@code lora} and {@code original} are the networks' outputs as they are.
     */
    public static Evaluator of(DepthModel lora, DepthModel original, String loraTitle, boolean errorMaps,
                               ModelConfig architecture, CameraIntrinsics camera) {
        boolean da3Metric = architecture.family() == ModelConfig.Family.DA3METRIC;
        if (da3Metric) {
            lora = new Da3Metres(lora, camera);
            original = new Da3Metres(original, camera);
        }
        return new Evaluator(lora, original, loraTitle, errorMaps, architecture.isMetric() || da3Metric)
                .depthOutput(architecture.isDa3());
    }

    /**
     * The models predict relative depth (Depth Anything 3: larger = farther), not disparity: the
     * metrics and panels align the predicted depth to Z ({@link DepthAlignment}), not 1/Z.
     */
    public Evaluator depthOutput(boolean depth) {
        this.depthOutput = depth;
        return this;
    }

    /** Shows the progress bar on {@code out} (default: stderr); null: no bar (a caller with its own, or quiet). */
    public Evaluator progress(PrintStream out) {
        this.progress = out;
        return this;
    }

    /** Panel file of one sample. */
    public static Path panelFile(Path panelDir, String name) {
        return panelDir.resolve(name + ".png");
    }

    /** Evaluates {@code samples}; the first that fails stops the run. */
    public EvalResult run(List<EvalSample> samples, Path panelDir) {
        return run(samples, s -> new Item(s.name(), s.imageFile()), s -> s, panelDir, new BatchFailures(true));
    }

    /** How an item is named in the report (an image's stem) and the file its failure is recorded against. */
    public record Item(String name, Path file) {}

    /**
     * Loads one item at a time (only one image and its depth in memory), evaluates, releases it. An item that
     * cannot be loaded or predicted is recorded in {@code failures} against its {@link Item#file} (or thrown,
     * under fail-fast) and left out; so is an item whose file already failed in {@code failures} (an earlier
     * checkpoint of the same eval). The result holds the other items' metrics and the left-out items.
     */
    public <T> EvalResult run(List<T> items, Function<T, Item> id, Function<T, EvalSample> loader, Path panelDir,
            BatchFailures failures) {
        List<ImageResult> out = new ArrayList<>();
        Map<Path, String> names = new HashMap<>();
        try (ProgressBar bar = progress == null ? null : new ProgressBarBuilder().setTaskName("eval")
                .setInitialMax(items.size()).setStyle(ProgressBarStyle.ASCII).continuousUpdate().setConsumer(
                        new ConsoleProgressBarConsumer(progress)).build()) {
            for (T item : items) {
                Item it = id.apply(item);
                Path f = it.file();
                names.putIfAbsent(f, it.name());
                if (!failures.hasFailed(f)) {
                    failures.attempt(f, () -> {
                        EvalSample s = loader.apply(item);
                        try {
                            out.add(evaluate(s, panelDir));
                        } finally {
                            if (s != item) {
                                s.image().release();
                            }
                        }
                    });
                }
                if (bar != null) {
                    bar.step();
                }
            }
        }
        List<EvalResult.LeftOut> left = failures.failures().stream().filter(x -> names.containsKey(x.file()))
                .map(x -> new EvalResult.LeftOut(names.get(x.file()), x)).toList();
        return EvalResult.of(out, left);
    }

    ImageResult evaluate(EvalSample s, Path panelDir) {
        return metric ? evaluateMetric(s, panelDir)
                : evaluateAligned(s, panelDir, depthOutput ? DepthAlignment::fit : DisparityAlignment::fit);
    }

    private ImageResult evaluateMetric(EvalSample s, Path panelDir) {
        float[] pl = lora.predict(s);
        float[] po = original.predict(s);
        boolean[] measured = DisparityAlignment.measured(s.depth(), null);
        // the aligned figures: a depth output (DA3METRIC) aligned in depth, a V2 metric one in disparity
        ImageResult r = new ImageResult(s.name(), depthOutput ? DepthAlignment.evaluate(pl, s.depth(), measured)
                : MetricDepth.aligned(pl, s.depth(), measured), depthOutput ? DepthAlignment.evaluate(po, s.depth(), measured)
                : MetricDepth.aligned(po, s.depth(), measured), MetricDepth.absolute(pl, s.depth(), measured),
                MetricDepth.absolute(po, s.depth(), measured));
        if (panelDir != null && !r.loraAbsolute().isEmpty()) {
            Mat pic = PanelRenderer.render(s.image(), s.depth(), measured, mm(pl), mm(po), loraTitle, errorMaps);
            ReportFiles.writePng(panelFile(panelDir, s.name()), pic);
            pic.release();
        }
        return r;
    }

    private static double[] mm(float[] metres) {
        float[] f = MetricDepth.toMm(metres);
        double[] d = new double[f.length];
        for (int i = 0; i < f.length; i++) {
            d[i] = f[i];
        }
        return d;
    }

    /** One fit of a relative prediction to the truth: DA3's depth or V2's disparity. */
    @FunctionalInterface
    private interface Fit {
        Alignment of(float[] pred, float[] depth, boolean[] measured);
    }

    /**
     * A relative model's image: each prediction fitted once ({@code fit}), scored and drawn with the
     * same fit.
     */
    private ImageResult evaluateAligned(EvalSample s, Path panelDir, Fit fit) {
        float[] pl = lora.predict(s);
        float[] po = original.predict(s);
        boolean[] measured = DisparityAlignment.measured(s.depth(), null);
        Alignment al = fit.of(pl, s.depth(), measured);
        Alignment ao = fit.of(po, s.depth(), measured);
        DepthMetrics ml = Alignment.score(al, pl, s.depth(), measured);
        DepthMetrics mo = Alignment.score(ao, po, s.depth(), measured);
        if (panelDir != null && al.fitted()) {
            Mat pic = PanelRenderer.render(s.image(), s.depth(), measured, al.depths(pl), ao.depths(po),
                    loraTitle, errorMaps);
            ReportFiles.writePng(panelFile(panelDir, s.name()), pic);
            pic.release();
        }
        return new ImageResult(s.name(), ml, mo);
    }
}
