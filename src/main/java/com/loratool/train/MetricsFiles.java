package com.loratool.train;

import java.nio.file.Path;

/** Listener: rewrites metrics.csv and loss.png after every epoch. */
final class MetricsFiles implements TrainingListener {
    private final MetricsCsv csv;
    private final Path plot;
    private final String title;

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
        LossPlot.write(plot, csv.rows(), title);
    }
}
