package com.loratool.train;

import java.nio.file.Path;

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

    MetricsFiles(Path runDir, String title) {
        this.csv = new MetricsCsv(runDir.resolve("metrics.csv"));
        this.plot = runDir.resolve("loss.png");
        this.title = title;
    }

    /** Keeps the rows of the epochs a resumed run has done already (of the existing metrics.csv). */
    @Override
    public void onRunStart(RunStart start) {
        if (start.state().epoch > 0) {
            csv.loadUpTo(start.state().epoch);
        }
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
