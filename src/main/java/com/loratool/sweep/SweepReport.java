package com.loratool.sweep;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.loratool.io.AtomicFiles;
import com.loratool.io.Json;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A sweep's table: per combination the mean and 95 % t-interval over folds ({@link Interval}) of
 * the held-out AbsRel, delta1 and RMSE (absolute ones for a metric model), the gain over the frozen
 * base on the same folds (paired), the paired difference to the best combination, and with a
 * retention set its AbsRel there. Ranked by mean held-out AbsRel; the frozen base is a row of its
 * own. Writes results.md, results.csv (every cell), results.json and sweep.png.
 */
public final class SweepReport {
    static final List<String> METRICS = List.of("abs_rel", "delta1", "rmse");

    private final List<String> labels;
    private final int folds;
    private final List<CellResult> cells;
    private final boolean retention;

    /** Per combination: summary over its folds. */
    public record Row(int combination, String label, int done, int failed, String reason,
                      Map<String, Interval> lora, Map<String, Interval> base, Map<String, Interval> gain,
                      Interval vsBest, Interval retentionAbsRel, Interval retentionBaseAbsRel, Interval retentionChange) {}

    public SweepReport(List<String> labels, int folds, List<CellResult> cells, boolean retention) {
        this.labels = List.copyOf(labels);
        this.folds = folds;
        this.cells = List.copyOf(cells);
        this.retention = retention;
    }

    /** Per-fold values of one metric of one combination (NaN where the cell failed). */
    double[] values(int combination, String metric, String which) {
        double[] v = new double[folds];
        Arrays.fill(v, Double.NaN);
        for (CellResult c : cells) {
            if (c.combination() == combination && c.done()) {
                CellResult.Metrics m = switch (which) {
                    case "lora" -> c.lora();
                    case "base" -> c.base();
                    case "retention" -> c.retentionLora();
                    default -> c.retentionBase();
                };
                v[c.fold()] = m == null ? Double.NaN : m.get(metric);
            }
        }
        return v;
    }

    public boolean absolute() {
        return cells.stream().anyMatch(c -> c.done() && c.absolute());
    }

    /** The combination with the lowest mean held-out AbsRel among those with every fold done; -1 if none. */
    public int bestCombination() {
        int best = -1;
        double bv = Double.POSITIVE_INFINITY;
        for (int i = 0; i < labels.size(); i++) {
            Interval a = Interval.of(values(i, "abs_rel", "lora"));
            if (a.n() == folds && a.mean() < bv) {
                bv = a.mean();
                best = i;
            }
        }
        return best;
    }

    /** One row per combination, in combination order. */
    public List<Row> rows() {
        int best = bestCombination();
        double[] bestAbs = best < 0 ? null : values(best, "abs_rel", "lora");
        List<Row> out = new ArrayList<>();
        for (int i = 0; i < labels.size(); i++) {
            Map<String, Interval> l = new LinkedHashMap<>();
            Map<String, Interval> b = new LinkedHashMap<>();
            Map<String, Interval> g = new LinkedHashMap<>();
            for (String m : METRICS) {
                double[] lv = values(i, m, "lora");
                double[] bv = values(i, m, "base");
                l.put(m, Interval.of(lv));
                b.put(m, Interval.of(bv));
                // gain: positive = better than the frozen base
                g.put(m, m.equals("delta1") ? Interval.paired(lv, bv) : Interval.paired(bv, lv));
            }
            int idx = i;
            List<CellResult> mine = cells.stream().filter(c -> c.combination() == idx).toList();
            int done = (int) mine.stream().filter(CellResult::done).count();
            String reason = mine.stream().filter(c -> !c.done()).map(CellResult::reason).findFirst().orElse(null);
            Interval vs = bestAbs == null ? null : Interval.paired(values(i, "abs_rel", "lora"), bestAbs);
            Interval ret = retention ? Interval.of(values(i, "abs_rel", "retention")) : null;
            Interval retB = retention ? Interval.of(values(i, "abs_rel", "retention-base")) : null;
            Interval retC = retention ? Interval.paired(values(i, "abs_rel", "retention"),
                    values(i, "abs_rel", "retention-base")) : null;
            out.add(new Row(i, labels.get(i), done, mine.size() - done, reason, l, b, g, vs, ret, retB, retC));
        }
        return out;
    }

    /** The frozen base over the same folds (combination 0's cells: every combination's base is the same model). */
    Row baseRow() {
        for (Row r : rows()) {
            if (r.done() > 0) {
                return r;
            }
        }
        return null;
    }

    String markdown(double wallSeconds, int trained) {
        List<Row> rows = new ArrayList<>(rows());
        rows.sort(Comparator.comparingDouble((Row r) -> Double.isNaN(r.lora().get("abs_rel").mean())
                ? Double.POSITIVE_INFINITY : r.lora().get("abs_rel").mean()));
        boolean abs = absolute();
        StringBuilder s = new StringBuilder("# lora sweep\n\n");
        s.append(String.format(Locale.ROOT, "%d combinations x %d fold%s; every value is the mean over folds with its"
                + " 95 %% Student t-interval (mean +- t(0.975, n-1) s / sqrt(n)); %s.%n%n", labels.size(), folds,
                folds == 1 ? "" : "s", protocol()));
        s.append("| rank | combination | folds | AbsRel | delta1 | RMSE | AbsRel gain vs base | vs best (paired)");
        if (retention) {
            s.append(" | retention AbsRel | retention change |");
        } else {
            s.append(" |");
        }
        s.append("\n|---|---|---|---|---|---|---|---|").append(retention ? "---|---|\n" : "\n");
        Row br = baseRow();
        List<Object[]> ordered = new ArrayList<>();
        boolean baseShown = false;
        int rank = 1;
        for (Row r : rows) {
            double m = r.lora().get("abs_rel").mean();
            if (!baseShown && br != null && !(m <= br.base().get("abs_rel").mean())) {
                ordered.add(new Object[] {null, null});
                baseShown = true;
            }
            ordered.add(new Object[] {r, rank++});
        }
        if (!baseShown && br != null) {
            ordered.add(new Object[] {null, null});
        }
        for (Object[] e : ordered) {
            Row r = (Row) e[0];
            if (r == null) {
                s.append("| - | **frozen base** | ").append(br.done()).append(" | ")
                        .append(ci(br.base().get("abs_rel"), 4)).append(" | ").append(ci(br.base().get("delta1"), 4))
                        .append(" | ").append(ci(br.base().get("rmse"), 1)).append(" | - | - |");
                if (retention) {
                    s.append(' ').append(ci(br.retentionBaseAbsRel(), 4)).append(" | - |");
                }
                s.append('\n');
                continue;
            }
            String folds = r.failed() == 0 ? Integer.toString(r.done())
                    : r.done() + " done, **" + r.failed() + " failed**: " + shorten(r.reason());
            String vs = r.vsBest() == null ? "-" : r.combination() == bestCombination() ? "best"
                    : Double.isNaN(r.vsBest().mean()) ? "-"
                    : ci(r.vsBest(), 4) + (r.vsBest().excludesZero() ? " worse" : " (within noise)");
            s.append("| ").append(e[1]).append(" | ").append(r.label()).append(" | ").append(folds).append(" | ")
                    .append(ci(r.lora().get("abs_rel"), 4)).append(" | ").append(ci(r.lora().get("delta1"), 4))
                    .append(" | ").append(ci(r.lora().get("rmse"), 1)).append(" | ").append(ci(r.gain().get("abs_rel"), 4))
                    .append(noise(r.gain().get("abs_rel"))).append(" | ").append(vs)
                    .append(" |");
            if (retention) {
                s.append(' ').append(ci(r.retentionAbsRel(), 4)).append(" | ").append(ci(r.retentionChange(), 4))
                        .append(" |");
            }
            s.append('\n');
        }
        s.append("\nGain = frozen base minus LoRA on the same held-out images (positive: LoRA better), its interval"
                + " over the per-fold differences. \"vs best\": the per-fold difference to the best combination;"
                + " \"within noise\" when its interval holds 0.");
        if (retention) {
            s.append(" Retention: every fold's adapters on the --retention set; change = LoRA minus frozen base there"
                    + " (positive: worse than the base).");
        }
        s.append("\n\n");
        if (retention) {
            s.append("Pareto front (held-out AbsRel against retention AbsRel, lower is better in both): ")
                    .append(String.join("; ", paretoFront())).append(".\n\n");
        }
        double sum = cells.stream().mapToDouble(c -> c.trainSeconds() + c.evalSeconds()).sum();
        double epochs = cells.stream().mapToDouble(CellResult::epochSeconds).sum();
        s.append(String.format(Locale.ROOT, "Time: sweep %.1f s wall for %d cell%s trained in this run; the cells'"
                + " training + evaluation %.1f s (training epochs alone %.1f s, evaluation %.1f s)", wallSeconds,
                trained, trained == 1 ? "" : "s", sum, epochs, cells.stream().mapToDouble(CellResult::evalSeconds).sum()));
        if (trained == cells.size() && sum > 0) {
            s.append(String.format(Locale.ROOT, "; wall / cells = %.2f, wall / (epochs + evaluation) = %.2f",
                    wallSeconds / sum, wallSeconds / (epochs + cells.stream().mapToDouble(CellResult::evalSeconds).sum())));
        }
        s.append(".\n");
        return s.toString();
    }

    /** Labels of the points on the Pareto front of (held-out, retention) mean AbsRel, the frozen base included. */
    List<String> paretoFront() {
        List<Row> rows = rows();
        int n = rows.size();
        double[] x = new double[n + 1];
        double[] y = new double[n + 1];
        for (Row r : rows) {
            x[r.combination()] = r.lora().get("abs_rel").mean();
            y[r.combination()] = r.retentionAbsRel() == null ? Double.NaN : r.retentionAbsRel().mean();
        }
        Row b = baseRow();
        x[n] = b == null ? Double.NaN : b.base().get("abs_rel").mean();
        y[n] = b == null || b.retentionBaseAbsRel() == null ? Double.NaN : b.retentionBaseAbsRel().mean();
        List<String> out = new ArrayList<>();
        for (int i : Pareto.front(x, y)) {
            out.add(i == n ? "frozen base" : labels.get(i));
        }
        return out;
    }

    String csv() {
        StringBuilder s = new StringBuilder("combination,label,fold,status,reason,images,abs_rel,delta1,rmse,"
                + "base_abs_rel,base_delta1,base_rmse,retention_abs_rel,retention_delta1,retention_rmse,"
                + "retention_base_abs_rel,retention_base_delta1,retention_base_rmse,epochs,train_s,epoch_s,eval_s\n");
        for (CellResult c : cells) {
            s.append(c.combination() + 1).append(',').append(quote(labels.get(c.combination()))).append(',')
                    .append(c.fold() + 1).append(',').append(c.status()).append(',').append(quote(c.reason() == null ? ""
                    : c.reason())).append(',').append(c.images());
            for (CellResult.Metrics m : new CellResult.Metrics[] {c.lora(), c.base(), c.retentionLora(), c.retentionBase()}) {
                for (String k : METRICS) {
                    s.append(',').append(m == null ? "" : String.format(Locale.ROOT, "%.6g", m.get(k)));
                }
            }
            s.append(String.format(Locale.ROOT, ",%d,%.2f,%.2f,%.2f%n", c.epochs(), c.trainSeconds(), c.epochSeconds(),
                    c.evalSeconds()));
        }
        return s.toString();
    }

    /** Whether the cells' model predicts depth (Depth Anything 3): aligned in depth, not in disparity. */
    public boolean depthOutput() {
        return cells.stream().anyMatch(c -> c.done() && c.depthOutput());
    }

    /** How the metrics were taken, for the report's first line. */
    String protocol() {
        if (absolute()) {
            return depthOutput() ? "Depth Anything 3 metric model: absolute metrics (no alignment) on metres = focal x"
                    + " output / 300, the focal fitted to the data's XYZ clouds, RMSE in mm"
                    : "metric model: absolute metrics (no alignment), RMSE in mm";
        }
        return depthOutput() ? "Depth Anything 3 relative model: metrics after the per-image scale-shift alignment of"
                + " the predicted depth to Z, RMSE in mm"
                : "relative model: metrics after the per-image scale-shift alignment in disparity, RMSE in mm";
    }

    String json(double wallSeconds) {
        Map<String, Object> root = new LinkedHashMap<>();
        root.put("folds", folds);
        root.put("interval", "95% Student t-interval over folds");
        root.put("absolute_metrics", absolute());
        root.put("alignment", absolute() ? "none" : depthOutput() ? "depth" : "disparity");
        root.put("best_combination", bestCombination() + 1);
        root.put("wall_seconds", wallSeconds);
        List<Map<String, Object>> combos = new ArrayList<>();
        for (Row r : rows()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("combination", r.combination() + 1);
            m.put("label", r.label());
            m.put("folds_done", r.done());
            m.put("folds_failed", r.failed());
            m.put("lora", intervals(r.lora()));
            m.put("base", intervals(r.base()));
            m.put("gain", intervals(r.gain()));
            if (r.vsBest() != null) {
                m.put("vs_best_abs_rel", interval(r.vsBest()));
            }
            if (retention) {
                m.put("retention_abs_rel", interval(r.retentionAbsRel()));
                m.put("retention_base_abs_rel", interval(r.retentionBaseAbsRel()));
                m.put("retention_change_abs_rel", interval(r.retentionChange()));
            }
            combos.add(m);
        }
        root.put("combinations", combos);
        root.put("cells", cells);
        try {
            return Json.pretty(Json.SNAKE).writeValueAsString(root) + "\n";
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private static Map<String, Object> intervals(Map<String, Interval> m) {
        Map<String, Object> o = new LinkedHashMap<>();
        m.forEach((k, v) -> o.put(k, interval(v)));
        return o;
    }

    private static Map<String, Object> interval(Interval i) {
        Map<String, Object> o = new LinkedHashMap<>();
        o.put("mean", i.mean());
        o.put("low", i.low());
        o.put("high", i.high());
        o.put("n", i.n());
        return o;
    }

    /** Writes results.md, results.csv, results.json and sweep.png into {@code dir}. */
    public void write(Path dir, double wallSeconds, int trained) {
        AtomicFiles.writeString(dir.resolve("results.md"), markdown(wallSeconds, trained));
        AtomicFiles.writeString(dir.resolve("results.csv"), csv());
        AtomicFiles.writeString(dir.resolve("results.json"), json(wallSeconds));
        SweepPlot.write(dir.resolve("sweep.png"), this);
    }

    List<String> labels() {
        return labels;
    }

    boolean retention() {
        return retention;
    }

    static String ci(Interval i, int decimals) {
        if (i == null || Double.isNaN(i.mean())) {
            return "-";
        }
        // a difference too small for the column's decimals is shown in scientific notation
        boolean tiny = i.mean() != 0 && Math.abs(i.mean()) < 0.5 * Math.pow(10, -decimals);
        String f = tiny ? "%.1e" : "%." + decimals + "f";
        return Double.isNaN(i.halfWidth()) ? String.format(Locale.ROOT, f, i.mean())
                : String.format(Locale.ROOT, f + " +- " + f, i.mean(), i.halfWidth());
    }

    private static String noise(Interval gain) {
        return Double.isNaN(gain.mean()) || Double.isNaN(gain.halfWidth()) || gain.excludesZero() ? "" : " (within noise)";
    }

    private static String shorten(String reason) {
        String r = reason == null ? "" : reason.replace('|', '/');
        return r.length() > 120 ? r.substring(0, 117) + "..." : r;
    }

    private static String quote(String s) {
        return "\"" + s.replace("\"", "\"\"") + "\"";
    }
}
