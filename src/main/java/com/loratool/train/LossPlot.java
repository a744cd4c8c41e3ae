package com.loratool.train;

import com.loratool.io.Charts;
import java.nio.file.Path;
import java.util.List;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;

/** loss.png: training and validation loss per epoch (XChart). */
public final class LossPlot {
    private LossPlot() {}

    public static void write(Path file, List<MetricsCsv.Row> rows, String title) {
        if (rows.isEmpty()) {
            return;
        }
        double[] x = rows.stream().mapToDouble(MetricsCsv.Row::epoch).toArray();
        double[] train = rows.stream().mapToDouble(MetricsCsv.Row::trainLoss).toArray();
        double[] val = rows.stream().mapToDouble(MetricsCsv.Row::valLoss).toArray();
        XYChart chart = new XYChartBuilder().width(800).height(500).title(title)
                .xAxisTitle("epoch").yAxisTitle("loss").build();
        chart.addSeries("train", x, train);
        if (rows.stream().anyMatch(r -> Double.isFinite(r.valLoss()))) {
            chart.addSeries("validation", x, val);
        }
        Charts.writePng(file, chart);
    }
}
