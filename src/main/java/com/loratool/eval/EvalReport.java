package com.loratool.eval;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.loratool.io.BatchFailures;
import com.loratool.io.Json;
import com.loratool.metrics.DepthMetrics;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Writes an evaluation's {@code metrics.json}, {@code metrics.csv} and {@code report.md} (tables,
 * the panel pictures inline, a link to the run's {@code loss.png}).
 *
 * @param settings what was evaluated (checkpoint, base weights, split, alpha scale...), shown
 *                 in the report and stored in metrics.json
 * @param lossPlot the run's loss.png, or null
 */
public record EvalReport(EvalResult result, Map<String, String> settings, Path lossPlot) {
    /**
     * The settings key of a Depth Anything 3 evaluation: its predictions are depth, aligned to Z
     * (metrics.DepthAlignment), not disparity aligned to 1/Z; the report says so.
     */
    public static final String DEPTH_ALIGNMENT = "alignment";
    /**
     * The settings key of a DA3METRIC evaluation: how its output became metres (focal x output / 300,
     * which focal); its absolute metrics are in mm and its aligned ones align depth to Z.
     */
    public static final String DA3_METRES = "metres";

    private static final ObjectMapper JSON = Json.JSON;

    public void write(Path outDir, Path panelDir) {
        ReportFiles.writeString(outDir.resolve("metrics.json"), json());
        ReportFiles.writeString(outDir.resolve("metrics.csv"), csv());
        ReportFiles.writeString(outDir.resolve("report.md"), markdown(outDir, panelDir));
    }

    static Map<String, Object> metrics(DepthMetrics m) {
        Map<String, Object> o = new LinkedHashMap<>();
        for (String n : DepthMetrics.NAMES) {
            double v = m.get(n);
            o.put(n, Double.isFinite(v) ? v : null);
        }
        o.put("pixels", m.pixels());
        o.put("clamped", m.clamped());
        return o;
    }

    public String json() {
        ObjectNode root = JSON.createObjectNode();
        ObjectNode s = root.putObject("settings");
        settings.forEach(s::put);
        root.put("images", result.images().size());
        root.put("pairs", result.pairs());
        var left = root.putArray("left_out");
        for (EvalResult.LeftOut l : result.leftOut()) {
            left.addObject().put("image", l.image()).put("file", l.failure().file().toString())
                    .put("reason", l.failure().reason());
        }
        if (result.absolute()) {
            ObjectNode abs = root.putObject("mean_absolute");
            abs.set("lora", JSON.valueToTree(metrics(result.loraAbsolute())));
            abs.set("original", JSON.valueToTree(metrics(result.originalAbsolute())));
            abs.set("difference", JSON.valueToTree(metrics(result.differenceAbsolute())));
        }
        ObjectNode mean = root.putObject("mean");
        mean.set("lora", JSON.valueToTree(metrics(result.lora())));
        mean.set("original", JSON.valueToTree(metrics(result.original())));
        mean.set("difference", JSON.valueToTree(metrics(result.difference())));
        var per = root.putArray("per_image");
        for (ImageResult r : result.images()) {
            ObjectNode o = per.addObject();
            o.put("image", r.name());
            o.set("lora", JSON.valueToTree(metrics(r.lora())));
            o.set("original", JSON.valueToTree(metrics(r.original())));
            if (r.absolute()) {
                o.set("lora_absolute", JSON.valueToTree(metrics(r.loraAbsolute())));
                o.set("original_absolute", JSON.valueToTree(metrics(r.originalAbsolute())));
            }
        }
        try {
            return Json.pretty(JSON).writeValueAsString(root) + "\n";
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * One row per (image, model), then a {@code left_out} row (no values) per pair left out, then the means and
     * the difference; for a metric model also the absolute rows (model lora_absolute, original_absolute,
     * difference_absolute).
     */
    public String csv() {
        StringBuilder b = new StringBuilder("image,model");
        for (String n : DepthMetrics.NAMES) {
            b.append(',').append(n);
        }
        b.append(",pixels,clamped\n");
        for (ImageResult r : result.images()) {
            row(b, r.name(), "lora", r.lora());
            row(b, r.name(), "original", r.original());
            if (r.absolute()) {
                row(b, r.name(), "lora_absolute", r.loraAbsolute());
                row(b, r.name(), "original_absolute", r.originalAbsolute());
            }
        }
        for (EvalResult.LeftOut l : result.leftOut()) {
            b.append(csvField(l.image())).append(",left_out").append(",".repeat(DepthMetrics.NAMES.size() + 2))
                    .append('\n');
        }
        row(b, "mean", "lora", result.lora());
        row(b, "mean", "original", result.original());
        row(b, "mean", "difference", result.difference());
        if (result.absolute()) {
            row(b, "mean", "lora_absolute", result.loraAbsolute());
            row(b, "mean", "original_absolute", result.originalAbsolute());
            row(b, "mean", "difference_absolute", result.differenceAbsolute());
        }
        return b.toString();
    }

    private static void row(StringBuilder b, String image, String model, DepthMetrics m) {
        b.append(csvField(image)).append(',').append(model);
        for (String n : DepthMetrics.NAMES) {
            b.append(',').append(num(m.get(n)));
        }
        b.append(',').append(m.pixels()).append(',').append(m.clamped()).append('\n');
    }

    static String csvField(String s) {
        return s.contains(",") || s.contains("\"") ? "\"" + s.replace("\"", "\"\"") + "\"" : s;
    }

    static String num(double v) {
        return Double.isFinite(v) ? String.format(Locale.ROOT, "%.6g", v) : "";
    }

    static String fmt(String name, double v) {
        if (!Double.isFinite(v)) {
            return "–";
        }
        if (name.equals("rmse") || name.equals("sq_rel") || name.equals("silog")) {
            return String.format(Locale.ROOT, "%.2f", v);
        }
        return String.format(Locale.ROOT, "%.4f", v);
    }

    static String signed(String name, double v) {
        String s = fmt(name, v);
        return v > 0 ? "+" + s : s;
    }

    /** "better" / "worse" / "same" for a LoRA − original difference. */
    static String verdict(String name, double diff) {
        if (!Double.isFinite(diff) || diff == 0) {
            return "same";
        }
        boolean better = DepthMetrics.higherIsBetter(name) ? diff > 0 : diff < 0;
        return better ? "better" : "worse";
    }

    public static final Map<String, String> TITLES = Map.of(
            "abs_rel", "AbsRel", "sq_rel", "SqRel (mm)", "rmse", "RMSE (mm)", "rmse_log", "RMSE(log)",
            "log10", "log10", "delta1", "δ1 (<1.25)", "delta2", "δ2 (<1.25²)", "delta3", "δ3 (<1.25³)",
            "silog", "SILog");

    public String markdown(Path outDir, Path panelDir) {
        StringBuilder b = new StringBuilder("# Evaluation report\n\n");
        if (result.partial()) {
            b.append("> **Partial evaluation: ").append(leftOutSummary(result)).append("** (they could not be read "
                    + "or predicted; see [Left out](#left-out)). Every figure below is over the other "
                    + result.images().size() + " only.\n\n");
        }
        settings.forEach((k, v) -> b.append("- **").append(k).append("**: ").append(v).append('\n'));
        b.append("- **images**: ").append(result.images().size());
        if (result.partial()) {
            b.append(" (").append(leftOutSummary(result)).append(')');
        }
        b.append('\n');
        if (lossPlot != null && Files.exists(lossPlot)) {
            b.append("- **training loss**: [loss.png](").append(rel(outDir, lossPlot)).append(")\n");
        }
        if (result.absolute() && settings.containsKey(DA3_METRES)) {
            b.append("\nA Depth Anything 3 metric model (DA3METRIC): each output is taken in metres as "
                    + settings.get(DA3_METRES) + ". The **absolute** metrics take these depths as they are, in mm, "
                    + "without any alignment (what you get from the model); the aligned ones fit the per-image "
                    + "scale and shift of the predicted depth to Z first, as for da3mono. Metrics count measured "
                    + "pixels only and are averaged over images (formulas: docs/eval.md).\n\n");
            meanTable(b, "## Absolute (no alignment), mean over images", result.originalAbsolute(),
                    result.loraAbsolute(), result.differenceAbsolute());
            b.append('\n');
            meanTable(b, "## Aligned (scale and shift in depth), mean over images", result.original(),
                    result.lora(), result.difference());
        } else if (result.absolute()) {
            b.append("\nA metric model: the **absolute** metrics take each prediction as it is, in mm, without any "
                    + "alignment (what you get from the model); the aligned ones fit the per-image scale and shift "
                    + "of its disparity 1/prediction to 1/Z first, as for relative models. Metrics count measured "
                    + "pixels only and are averaged over images (formulas: docs/eval.md).\n\n");
            meanTable(b, "## Absolute (no alignment), mean over images", result.originalAbsolute(),
                    result.loraAbsolute(), result.differenceAbsolute());
            b.append('\n');
            meanTable(b, "## Aligned (scale and shift in disparity), mean over images", result.original(),
                    result.lora(), result.difference());
        } else if (settings.containsKey(DEPTH_ALIGNMENT)) {
            b.append("\nPer image, each predicted depth (Depth Anything 3: the output is depth, not disparity) is "
                    + "aligned to Z by least-squares scale and shift over measured pixels; metrics count measured "
                    + "pixels only and are averaged over images (formulas: docs/eval.md).\n\n");
            meanTable(b, "## Mean over images", result.original(), result.lora(), result.difference());
        } else {
            b.append("\nPer image, each prediction is aligned to the true disparity 1/Z by least-squares scale and "
                    + "shift over measured pixels, then converted to depth; metrics count measured pixels only "
                    + "and are averaged over images (formulas: docs/eval.md).\n\n");
            meanTable(b, "## Mean over images", result.original(), result.lora(), result.difference());
        }
        if (result.partial()) {
            b.append("\n## Left out\n\n").append(leftOutSummary(result))
                    .append(", in none of the means or tables:\n\n| image | reason |\n|---|---|\n");
            for (EvalResult.LeftOut l : result.leftOut()) {
                b.append("| ").append(cell(l.image())).append(" | ").append(cell(l.failure().line())).append(" |\n");
            }
        }
        b.append("\n## Per image").append(result.absolute() ? " (absolute)" : "").append("\n\n| image | AbsRel original | AbsRel LoRA | δ1 original | δ1 LoRA | RMSE original | RMSE LoRA | pixels |\n"
                + "|---|---:|---:|---:|---:|---:|---:|---:|\n");
        for (ImageResult r : result.images()) {
            DepthMetrics o = r.absolute() ? r.originalAbsolute() : r.original();
            DepthMetrics l = r.absolute() ? r.loraAbsolute() : r.lora();
            b.append("| ").append(r.name()).append(" | ").append(fmt("abs_rel", o.absRel())).append(" | ")
                    .append(fmt("abs_rel", l.absRel())).append(" | ").append(fmt("delta1", o.delta1()))
                    .append(" | ").append(fmt("delta1", l.delta1())).append(" | ")
                    .append(fmt("rmse", o.rmse())).append(" | ").append(fmt("rmse", l.rmse()))
                    .append(" | ").append(l.pixels()).append(" |\n");
        }
        if (panelDir != null) {
            b.append("\n## Pictures\n\nimage | ground-truth Z (grey: not measured) | LoRA | original — the "
                    + (result.absolute() ? "predictions in mm as the model gives them (no alignment)"
                    : "predictions aligned to the truth's scale") + ", one colour scale (mm) for the three depth panels.\n\n");
            for (ImageResult r : result.images()) {
                Path p = Evaluator.panelFile(panelDir, r.name());
                if (Files.exists(p)) {
                    b.append("### ").append(r.name()).append("\n\n![").append(r.name()).append("](")
                            .append(rel(outDir, p)).append(")\n\n");
                }
            }
        }
        return b.toString();
    }

    /** "2 of 4 pairs left out". */
    static String leftOutSummary(EvalResult r) {
        return BatchFailures.leftOut(r.leftOut().size(), r.pairs(), "pairs");
    }

    /** Text in a Markdown table cell: no '|' or line break. */
    static String cell(String s) {
        return s.replace("|", "\\|").replace('\n', ' ');
    }

    private static void meanTable(StringBuilder b, String heading, DepthMetrics original, DepthMetrics lora,
            DepthMetrics diff) {
        b.append(heading).append("\n\n| metric | original | LoRA | LoRA − original | |\n|---|---:|---:|---:|---|\n");
        for (String n : DepthMetrics.NAMES) {
            double d = diff.get(n);
            b.append("| ").append(TITLES.get(n)).append(" | ").append(fmt(n, original.get(n)))
                    .append(" | ").append(fmt(n, lora.get(n))).append(" | ").append(signed(n, d))
                    .append(" | ").append(verdict(n, d)).append(" |\n");
        }
    }

    static String rel(Path from, Path to) {
        try {
            return from.toAbsolutePath().normalize().relativize(to.toAbsolutePath().normalize()).toString()
                    .replace('\\', '/');
        } catch (IllegalArgumentException e) {
            return to.toAbsolutePath().toString();
        }
    }

    /** {@code --compare}: one table, a row per checkpoint (LoRA means) and the original's row. */
    public static String compareMarkdown(List<String> names, List<EvalResult> results) {
        return compareMarkdown(names, Collections.nCopies(names.size(), "original"), results);
    }

    /**
     * {@code --compare} of checkpoints whose original models may differ: {@code originals.get(i)} names
     * checkpoint i's original (its base weights and preprocessing). One original: its row first, then
     * the checkpoints. Several: each original's row, then the checkpoints on it, so that no checkpoint is
     * measured against another's base.
     */
    public static String compareMarkdown(List<String> names, List<String> originals, List<EvalResult> results) {
        StringBuilder b = new StringBuilder("# Comparison\n\n| checkpoint |");
        for (String n : DepthMetrics.NAMES) {
            b.append(' ').append(TITLES.get(n)).append(" |");
        }
        b.append("\n|---|");
        b.append("---:|".repeat(DepthMetrics.NAMES.size())).append('\n');
        List<Row> rows = compareRows(names, originals, results);
        rows.forEach(r -> compareRow(b, r.name(), r.metrics()));
        long bases = originals.stream().distinct().count();
        if (bases > 1) {
            b.append("\nThe checkpoints are on ").append(bases).append(" different original models (base weights or "
                    + "preprocessing): each is compared with the original row above it.\n");
        }
        if (results.stream().anyMatch(EvalResult::partial)) {
            b.append("\n**Partial evaluation**: pairs that could not be read or predicted are in none of the means "
                    + "(each checkpoint's report.md lists them):\n\n");
            for (int i = 0; i < names.size(); i++) {
                EvalResult r = results.get(i);
                b.append("- ").append(names.get(i)).append(": ").append(leftOutSummary(r))
                        .append(r.partial() ? ": " + String.join(", ", r.leftOut().stream().map(EvalResult.LeftOut::image)
                                .toList()) : "").append('\n');
            }
        }
        return b.toString();
    }

    private static void compareRow(StringBuilder b, String name, DepthMetrics m) {
        b.append("| ").append(name).append(" |");
        for (String n : DepthMetrics.NAMES) {
            b.append(' ').append(fmt(n, m.get(n))).append(" |");
        }
        b.append('\n');
    }

    /** One row per checkpoint (the original's first) with the means, the images they are over and the pairs left out. */
    public static String compareCsv(List<String> names, List<EvalResult> results) {
        return compareCsv(names, Collections.nCopies(names.size(), "original"), results);
    }

    /** As {@link #compareMarkdown(List, List, List)}: each original's row before the checkpoints on it. */
    public static String compareCsv(List<String> names, List<String> originals, List<EvalResult> results) {
        StringBuilder b = new StringBuilder("checkpoint");
        for (String n : DepthMetrics.NAMES) {
            b.append(',').append(n);
        }
        b.append(",images,left_out\n");
        for (Row row : compareRows(names, originals, results)) {
            b.append(csvField(row.name()));
            for (String n : DepthMetrics.NAMES) {
                b.append(',').append(num(row.metrics().get(n)));
            }
            b.append(',').append(row.result().images().size()).append(',').append(row.result().leftOut().size())
                    .append('\n');
        }
        return b.toString();
    }

    private record Row(String name, DepthMetrics metrics, EvalResult result) {}

    /** Each distinct original (in order of first appearance) and then the checkpoints on it. */
    private static List<Row> compareRows(List<String> names, List<String> originals, List<EvalResult> results) {
        List<Row> rows = new ArrayList<>();
        for (String o : new LinkedHashSet<>(originals)) {
            int first = originals.indexOf(o);
            rows.add(new Row(o, results.get(first).original(), results.get(first)));
            for (int i = 0; i < names.size(); i++) {
                if (originals.get(i).equals(o)) {
                    rows.add(new Row(names.get(i), results.get(i).lora(), results.get(i)));
                }
            }
        }
        return rows;
    }
}
