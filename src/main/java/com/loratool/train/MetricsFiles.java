package com.loratool.train;

import java.nio.file.Path;
import java.util.List;

/**
 * Listener: rewrites metrics.csv after every epoch, and loss.png after an epoch when the last
 * picture is at least {@link #PLOT_EVERY_NS} old, and when the run ends (drawing it costs ~80 ms:
 * a quarter of a short epoch, and most of a sweep cell's time outside its epochs).
 */
final class MetricsFiles implements TrainingListener {
    private final MetricsCsv csv;
    private final Path plot;
    private final String title;
    static final long PLOT_EVERY_NS = 5_000_000_000L;
    private long plotted = Long.MIN_VALUE;
    private int plottedRows = -1;

    /** Keeps the rows of epochs up to {@code doneEpochs} of an existing metrics.csv (--resume). */
    MetricsFiles(Path runDir, String title, int doneEpochs) {
        this.csv = new MetricsCsv(runDir.resolve("metrics.csv"));
        this.plot = runDir.resolve("loss.png");
        this.title = title;
        if (doneEpochs > 0) {
            csv.loadUpTo(doneEpochs);
        }
    }

    List<MetricsCsv.Row> rows() {
        return csv.rows();
    }

    @Override
    public void onEpochEnd(EpochEnd end) {
        csv.add(end.row());
        if (plotted == Long.MIN_VALUE || System.nanoTime() - plotted >= PLOT_EVERY_NS) {
            plot();
        }
    }

    @Override
    public void onRunEnd() {
        if (plottedRows != csv.rows().size()) {
            plot();
        }
    }

    private void plot() {
        LossPlot.write(plot, csv.rows(), title);
        plotted = System.nanoTime();
        plottedRows = csv.rows().size();
    }
}
