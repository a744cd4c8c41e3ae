package com.loratool.train;

import java.nio.file.Path;
import java.util.List;

/** Listener: rewrites metrics.csv and loss.png after every epoch. */
final class MetricsFiles implements TrainingListener {
    private final MetricsCsv csv;
    private final Path plot;
    private final String title;

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
        LossPlot.write(plot, csv.rows(), title);
    }
}
