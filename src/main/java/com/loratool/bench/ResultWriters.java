package com.loratool.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.loratool.LoraException;
import com.loratool.io.AtomicFiles;
import com.loratool.io.Charts;
import com.loratool.io.Json;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.markers.SeriesMarkers;

/** Writes a {@link BenchReport} as results.csv, results.json, results.md and results.png (each atomically). */
public final class ResultWriters {
    public static final List<String> FILES = List.of("results.csv", "results.json", "results.md", "results.png");

    private ResultWriters() { }

    public static void writeAll(BenchReport report, Path dir) {
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw LoraException.file(dir, "cannot create the output folder: " + e.getMessage(), e);
        }
        AtomicFiles.writeString(dir.resolve("results.csv"), csv(report));
        AtomicFiles.writeString(dir.resolve("results.json"), json(report));
        AtomicFiles.writeString(dir.resolve("results.md"), markdown(report));
        writePng(report, dir.resolve("results.png"));
    }

    static final List<String> CSV_HEADER = List.of("arch", "epochs", "batch", "height", "width", "scale", "images",
            "targets", "rank", "trainable_params", "measured_epochs", "epoch_s", "time_s", "time_projected",
            "train_images_per_s", "infer_images_per_s", "peak_rss_mb", "rss_start_mb", "rss_end_mb",
            "peer_epoch_s", "peer_infer_images_per_s", "train_speedup_vs_peer", "infer_speedup_vs_peer", "device");

    /** Spread and efficiency columns, appended after the device (and GPU) columns. */
    static final List<String> EFFICIENCY_COLUMNS = List.of("epoch_s_min", "epoch_s_max", "warmup_epochs",
            "train_gflop_per_image", "infer_gflop_per_image", "peak_gflops", "train_gflops", "train_pct_of_peak",
            "infer_gflops", "infer_pct_of_peak");

    /** Added to the CSV header (after device) when any result computed on a GPU. */
    static final String GPU_COLUMN = "peak_gpu_mb";

    /** True when some result computed on a GPU: then the tables get a GPU memory column. */
    static boolean gpu(BenchReport report) {
        return report.results().stream().anyMatch(BenchResult::onGpu);
    }

    public static String csv(BenchReport report) {
        boolean gpu = gpu(report);
        StringBuilder sb = new StringBuilder(String.join(",", CSV_HEADER)).append(gpu ? "," + GPU_COLUMN : "")
                .append(',').append(String.join(",", EFFICIENCY_COLUMNS)).append('\n');
        for (BenchResult r : report.results()) {
            BenchSettings s = r.settings();
            List<String> cells = new ArrayList<>(List.of(s.arch(), i(r.epochs()), i(s.batch()), i(s.height()), i(s.width()), i(s.scale()),
                    i(s.images()), quote(s.targetsLabel()), i(s.rank()), Long.toString(r.trainableParams()),
                    i(r.measuredEpochs()), f(r.epochSeconds(), 4), f(r.projectedSeconds(), 2), Boolean.toString(r.projected()),
                    f(r.trainImagesPerS(), 3), f(r.inferImagesPerS(), 3), f(r.peakRssMb(), 1), f(r.rssStartMb(), 1),
                    f(r.rssEndMb(), 1), r.peer() == null ? "" : f(r.peer().epochSeconds(), 4),
                    r.peer() == null ? "" : f(r.peer().inferImagesPerS(), 3), f(r.trainSpeedup(), 3), f(r.inferSpeedup(), 3),
                    r.device()));
            if (gpu) {
                cells.add(f(r.peakGpuMb(), 1));
            }
            BenchResult.Efficiency e = r.efficiency();
            cells.addAll(List.of(f(r.epochSecondsMin(), 4), f(r.epochSecondsMax(), 4), e == null ? "" : i(e.warmupEpochs()),
                    e == null ? "" : f(e.trainGflopPerImage(), 2), e == null ? "" : f(e.inferGflopPerImage(), 2),
                    e == null ? "" : f(e.peakGflops(), 1), f(r.trainGflops(), 1), f(r.trainPercentOfPeak(), 1),
                    f(r.inferGflops(), 1), f(r.inferPercentOfPeak(), 1)));
            sb.append(String.join(",", cells)).append('\n');
        }
        return sb.toString();
    }

    public static String json(BenchReport report) {
        ObjectMapper m = Json.JSON;
        ObjectNode root = m.createObjectNode();
        root.put("machine", report.machine());
        root.put("device", report.device());
        root.put("threads", report.threads());
        root.put("synthetic", report.synthetic());
        num(root, "load_average_before", report.loadAverage());
        root.put("date", report.date());
        num(root, "rss_start_mb", round(report.rssStartMb(), 1));
        num(root, "rss_end_mb", round(report.rssEndMb(), 1));
        num(root, "rss_growth_mb", round(report.rssGrowthMb(), 1));
        if (report.results().size() > 1) {
            num(root, "rss_growth_after_first_mb", round(report.rssEndMb() - report.results().get(0).rssEndMb(), 1));
        }
        ArrayNode arr = root.putArray("results");
        for (BenchResult r : report.results()) {
            BenchSettings s = r.settings();
            ObjectNode o = arr.addObject();
            o.put("arch", s.arch());
            o.put("epochs", r.epochs());
            o.put("batch", s.batch());
            o.put("height", s.height());
            o.put("width", s.width());
            o.put("scale", s.scale());
            o.put("images", s.images());
            ArrayNode t = o.putArray("targets");
            s.targets().forEach(t::add);
            o.put("rank", s.rank());
            o.put("trainable_params", r.trainableParams());
            o.put("measured_epochs", r.measuredEpochs());
            num(o, "epoch_s", round(r.epochSeconds(), 4));
            num(o, "epoch_s_min", round(r.epochSecondsMin(), 4));
            num(o, "epoch_s_max", round(r.epochSecondsMax(), 4));
            ArrayNode all = o.putArray("epoch_s_all");
            r.epochSecondsAll().forEach(v -> all.add(Double.isFinite(v) ? round(v, 4) : null));
            num(o, "time_s", round(r.projectedSeconds(), 2));
            o.put("time_projected", r.projected());
            num(o, "train_images_per_s", round(r.trainImagesPerS(), 3));
            num(o, "infer_images_per_s", round(r.inferImagesPerS(), 3));
            num(o, "peak_rss_mb", round(r.peakRssMb(), 1));
            num(o, "rss_start_mb", round(r.rssStartMb(), 1));
            num(o, "rss_end_mb", round(r.rssEndMb(), 1));
            o.put("device", r.device());
            if (r.efficiency() != null) {
                BenchResult.Efficiency e = r.efficiency();
                o.put("warmup_epochs", e.warmupEpochs());
                num(o, "train_gflop_per_image", round(e.trainGflopPerImage(), 2));
                num(o, "infer_gflop_per_image", round(e.inferGflopPerImage(), 2));
                num(o, "peak_gflops", round(e.peakGflops(), 1));
                num(o, "train_gflops", round(r.trainGflops(), 1));
                num(o, "train_pct_of_peak", round(r.trainPercentOfPeak(), 1));
                num(o, "infer_gflops", round(r.inferGflops(), 1));
                num(o, "infer_pct_of_peak", round(r.inferPercentOfPeak(), 1));
            }
            if (r.onGpu()) {
                num(o, "peak_gpu_mb", round(r.peakGpuMb(), 1));
            }
            if (r.peer() != null) {
                ObjectNode p = o.putObject("peer");
                p.put("peer", r.peer().peer());
                p.put("epoch_s", r.peer().epochSeconds());
                p.put("train_images_per_s", r.peer().trainImagesPerS());
                p.put("infer_images_per_s", r.peer().inferImagesPerS());
                p.put("trainable", r.peer().trainable());
                p.put("threads", r.peer().threads());
                num(o, "train_speedup_vs_peer", round(r.trainSpeedup(), 3));
                num(o, "infer_speedup_vs_peer", round(r.inferSpeedup(), 3));
            }
        }
        try {
            return Json.pretty(m).writeValueAsString(root) + "\n";
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The study's table: epochs, batch, image size, training images, layers, time (+ speed, memory, peer). */
    public static String markdown(BenchReport report) {
        boolean peers = report.results().stream().anyMatch(r -> r.peer() != null);
        boolean gpu = gpu(report);
        boolean eff = report.results().stream().anyMatch(r -> Double.isFinite(r.trainPercentOfPeak()));
        StringBuilder sb = new StringBuilder("# lora benchmark\n\n");
        sb.append(String.format(Locale.ROOT, "%s; device %s, %d threads%s; load average %.2f before the run; %s.%n%n",
                report.machine(), report.device(), report.threads(), report.synthetic() ? ", synthetic data (random tensors)" : "",
                report.loadAverage(), report.date()));
        // several architectures (a grid's arch axis, e.g. vits,da3mono-large): a first column names each row's
        boolean archs = report.results().stream().map(r -> r.settings().arch()).distinct().count() > 1;
        sb.append(archs ? "| Model " : "");
        sb.append("| Epochs | Batch | Image size | Training images | Layers | Time | s/epoch [min..max] | train img/s | infer img/s | trainable | peak RSS |");
        sb.append(gpu ? " peak GPU memory |" : "");
        sb.append(eff ? " train GFLOP/s | train % of peak | infer GFLOP/s | infer % of peak |" : "");
        sb.append(peers ? " peer s/epoch | train x peer | infer x peer |\n" : "\n");
        sb.append(archs ? "|---" : "").append("|---:|---:|---|---:|---|---:|---:|---:|---:|---:|---:|").append(gpu ? "---:|" : "")
                .append(eff ? "---:|---:|---:|---:|" : "")
                .append(peers ? "---:|---:|---:|\n" : "\n");
        for (BenchResult r : report.results()) {
            BenchSettings s = r.settings();
            sb.append(archs ? "| " + s.arch() + " " : "");
            sb.append(String.format(Locale.ROOT, "| %d | %d | %s | %d | %s | %s | %.2f [%.2f..%.2f] | %.2f | %s | %,d | %.0f MiB |",
                    r.epochs(), s.batch(), s.size(), s.images(), layers(s.targets()),
                    duration(r.projectedSeconds()) + (r.projected() ? " (projected)" : ""),
                    r.epochSeconds(), r.epochSecondsMin(), r.epochSecondsMax(), r.trainImagesPerS(), r.inferImagesPerS() > 0 ? f(r.inferImagesPerS(), 2) : "-",
                    r.trainableParams(), r.peakRssMb()));
            if (gpu) {
                sb.append(r.onGpu() ? String.format(Locale.ROOT, " %.0f MiB |", r.peakGpuMb()) : " - |");
            }
            if (eff) {
                sb.append(String.format(Locale.ROOT, " %s | %s | %s | %s |", orDash(r.trainGflops(), "%.1f"),
                        orDash(r.trainPercentOfPeak(), "%.0f %%"), orDash(r.inferGflops(), "%.1f"),
                        orDash(r.inferPercentOfPeak(), "%.0f %%")));
            }
            if (peers) {
                sb.append(r.peer() == null ? " - | - | - |" : String.format(Locale.ROOT, " %.2f | %.2fx | %s |",
                        r.peer().epochSeconds(), r.trainSpeedup(),
                        Double.isNaN(r.inferSpeedup()) ? "-" : String.format(Locale.ROOT, "%.2fx", r.inferSpeedup())));
            }
            sb.append('\n');
        }
        sb.append('\n');
        if (report.results().stream().anyMatch(BenchResult::projected)) {
            sb.append("Projected: seconds per epoch (median of the measured epochs, after the warm-up epochs) "
                    + "times the epochs asked for.\n");
        }
        sb.append("s/epoch: median of the measured epochs [fastest..slowest], after warm-up epochs that ran until two "
                + "consecutive ones agreed within 5 % (at most 5).\n");
        if (eff) {
            BenchResult.Efficiency e = report.results().stream().map(BenchResult::efficiency)
                    .filter(x -> x != null).findFirst().orElseThrow();
            sb.append(String.format(Locale.ROOT, "GFLOP/s: the model's matmul and convolution FLOPs (model.FlopCount, "
                    + "docs/benchmark.md) over the measured time; %% of peak: of %.1f GFLOP/s, this machine's best "
                    + "fp32 %dx%d matmul at the start of the run.%n", e.peakGflops(), PeakProbe.SIZE, PeakProbe.SIZE));
        }
        if (gpu) {
            sb.append("Peak GPU memory: the GPU's used memory (cudaMemGetInfo: CUDA context + what libtorch's caching "
                    + "allocator reserved), sampled every 20 ms per combination.\n");
        }
        if (peers) {
            sb.append("x peer: above 1 means this toolkit is faster than the PyTorch peer on the same settings.\n");
        }
        sb.append(String.format(Locale.ROOT, "Resident memory: %.0f MiB before the first combination, %.0f MiB after the last (%+.0f MiB)",
                report.rssStartMb(), report.rssEndMb(), report.rssGrowthMb()));
        if (report.results().size() > 1) {
            double first = report.results().get(0).rssEndMb();
            sb.append(String.format(Locale.ROOT, "; %.0f MiB after the first, so %+.0f MiB across the other %d (what a leak would grow)",
                    first, report.rssEndMb() - first, report.results().size() - 1));
        }
        sb.append(".\n");
        return sb.toString();
    }

    private static String orDash(double v, String format) {
        return Double.isFinite(v) ? String.format(Locale.ROOT, format, v) : "-";
    }

    /** {@code [qkv]} -> "qkv"; {@code [qkv, linear]} -> "qkv + linear". */
    static String layers(List<String> targets) {
        return String.join(" + ", targets);
    }

    /** 75 -> "1 min 15 s"; 3725 -> "1 h 2 min"; 9.5 -> "9.5 s". */
    static String duration(double seconds) {
        if (!Double.isFinite(seconds)) {
            return "-";
        }
        if (seconds < 60) {
            return String.format(Locale.ROOT, "%.1f s", seconds);
        }
        long s = Math.round(seconds);
        if (s < 3600) {
            return String.format(Locale.ROOT, "%d min %d s", s / 60, s % 60);
        }
        return String.format(Locale.ROOT, "%d h %d min", s / 3600, (s % 3600) / 60);
    }

    /** Time against training images, one line per (size, targets, batch). */
    static void writePng(BenchReport report, Path file) {
        XYChart chart = new XYChartBuilder().width(900).height(620)
                .title("Training time (" + report.results().stream().findFirst().map(BenchResult::epochs).orElse(0) + " epochs)")
                .xAxisTitle("training images").yAxisTitle("time (min)" + (report.results().stream().anyMatch(BenchResult::projected) ? ", projected" : ""))
                .build();
        chart.getStyler().setLegendPosition(org.knowm.xchart.style.Styler.LegendPosition.OutsideS);
        Map<String, TreeMap<Integer, Double>> lines = new LinkedHashMap<>();
        for (BenchResult r : report.results()) {
            BenchSettings s = r.settings();
            String key = s.size() + ", " + layers(s.targets()) + ", batch " + s.batch();
            lines.computeIfAbsent(key, k -> new TreeMap<>()).put(s.images(), r.projectedSeconds() / 60.0);
        }
        for (Map.Entry<String, TreeMap<Integer, Double>> e : lines.entrySet()) {
            XYSeries series = chart.addSeries(e.getKey(), e.getValue().keySet().stream().map(Integer::doubleValue).toList(),
                    List.copyOf(e.getValue().values()));
            series.setMarker(SeriesMarkers.CIRCLE);
        }
        if (lines.isEmpty()) {
            chart.addSeries("no results", new double[] {0}, new double[] {0});
        }
        Charts.writePng(file, chart);
    }

    /** Jackson writes NaN as a bare token, which is not JSON: write null instead. */
    private static void num(ObjectNode o, String key, double v) {
        if (Double.isFinite(v)) {
            o.put(key, v);
        } else {
            o.putNull(key);
        }
    }

    private static String i(int v) {
        return Integer.toString(v);
    }

    private static String f(double v, int digits) {
        return Double.isFinite(v) ? String.format(Locale.ROOT, "%." + digits + "f", v) : "";
    }

    private static double round(double v, int digits) {
        if (!Double.isFinite(v)) {
            return v;
        }
        double p = Math.pow(10, digits);
        return Math.round(v * p) / p;
    }

    private static String quote(String v) {
        return v.contains(",") ? "\"" + v.replace("\"", "\"\"") + "\"" : v;
    }
}
