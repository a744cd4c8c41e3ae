package com.loratool.sweep;

import com.loratool.io.Charts;
import java.awt.Color;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * sweep.png (XChart). With a retention set: held-out AbsRel (x) against retention AbsRel (y), one
 * point per combination with its 95 % intervals as bars in both directions, the frozen base as a
 * point of its own and the Pareto front (lower is better in both; the frozen base takes part) as a line. Without: held-out
 * AbsRel per combination with interval bars and the frozen base as a line.
 */
final class SweepPlot {
    private SweepPlot() {}

    static void write(Path file, SweepReport report) {
        List<SweepReport.Row> rows = report.rows();
        XYChart chart = report.retention() ? tradeOff(rows, report) : perCombination(rows, report);
        Charts.writePng(file, chart);
    }

    private static XYChart perCombination(List<SweepReport.Row> rows, SweepReport report) {
        XYChart chart = new XYChartBuilder().width(900).height(520).title("lora sweep: held-out AbsRel (mean, 95% CI)")
                .xAxisTitle("combination").yAxisTitle("AbsRel").build();
        List<Double> x = new ArrayList<>();
        List<Double> y = new ArrayList<>();
        List<Double> e = new ArrayList<>();
        for (SweepReport.Row r : rows) {
            Interval a = r.lora().get("abs_rel");
            if (Double.isFinite(a.mean())) {
                x.add(r.combination() + 1.0);
                y.add(a.mean());
                e.add(Double.isFinite(a.halfWidth()) ? a.halfWidth() : 0.0);
            }
        }
        if (!x.isEmpty()) {
            XYSeries s = chart.addSeries("LoRA", x, y, e);
            s.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Scatter);
        }
        SweepReport.Row b = report.baseRow();
        if (b != null) {
            double m = b.base().get("abs_rel").mean();
            XYSeries s = chart.addSeries("frozen base", new double[] {0.5, rows.size() + 0.5}, new double[] {m, m});
            s.setMarker(SeriesMarkers.NONE);
            s.setLineColor(Color.GRAY);
        }
        return chart;
    }

    private static XYChart tradeOff(List<SweepReport.Row> rows, SweepReport report) {
        XYChart chart = new XYChartBuilder().width(900).height(620)
                .title("lora sweep: in-domain vs retention AbsRel (mean, 95% CI)")
                .xAxisTitle("held-out AbsRel (in-domain)").yAxisTitle("retention AbsRel").build();
        chart.getStyler().setLegendVisible(true);
        int n = rows.size();
        double[] px = new double[n];
        double[] py = new double[n];
        for (SweepReport.Row r : rows) {
            px[r.combination()] = r.lora().get("abs_rel").mean();
            py[r.combination()] = r.retentionAbsRel().mean();
        }
        for (SweepReport.Row r : rows) {
            int i = r.combination();
            if (!Double.isFinite(px[i]) || !Double.isFinite(py[i])) {
                continue;
            }
            double ey = Double.isFinite(r.retentionAbsRel().halfWidth()) ? r.retentionAbsRel().halfWidth() : 0;
            XYSeries s = chart.addSeries((i + 1) + ": " + r.label(), new double[] {px[i]}, new double[] {py[i]},
                    new double[] {ey});
            s.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Scatter);
            double ex = r.lora().get("abs_rel").halfWidth();
            if (Double.isFinite(ex) && ex > 0) {
                XYSeries h = chart.addSeries("x-interval " + (i + 1), new double[] {px[i] - ex, px[i] + ex},
                        new double[] {py[i], py[i]});
                h.setMarker(SeriesMarkers.NONE);
                h.setLineColor(s.getMarkerColor() != null ? s.getMarkerColor() : Color.DARK_GRAY);
                h.setShowInLegend(false);
            }
        }
        SweepReport.Row b = report.baseRow();
        if (b != null && Double.isFinite(b.retentionBaseAbsRel().mean())) {
            XYSeries s = chart.addSeries("frozen base", new double[] {b.base().get("abs_rel").mean()},
                    new double[] {b.retentionBaseAbsRel().mean()});
            s.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Scatter);
            s.setMarker(SeriesMarkers.DIAMOND);
            s.setMarkerColor(Color.BLACK);
        }
        // the frozen base is a choice too (no adaptation): it takes part in the front
        double[] fx = Arrays.copyOf(px, n + 1);
        double[] fy = Arrays.copyOf(py, n + 1);
        fx[n] = b == null ? Double.NaN : b.base().get("abs_rel").mean();
        fy[n] = b == null ? Double.NaN : b.retentionBaseAbsRel().mean();
        List<Integer> front = new ArrayList<>(Pareto.front(fx, fy));
        if (!front.isEmpty()) {
            front.sort(Comparator.comparingDouble(i -> fx[i]));
            XYSeries f = chart.addSeries("Pareto front", front.stream().mapToDouble(i -> fx[i]).toArray(),
                    front.stream().mapToDouble(i -> fy[i]).toArray());
            f.setMarker(SeriesMarkers.NONE);
            f.setLineColor(Color.RED);
        }
        return chart;
    }
}
