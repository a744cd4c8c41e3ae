package com.loratool.train;

import java.io.PrintStream;
import java.util.Locale;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * Listener: a progress bar per epoch on the console (none when quiet or without a console) and
 * one summary line per epoch in the log and on the console.
 */
final class ProgressReporter implements TrainingListener {
    private final RunLog log;
    private final PrintStream console;
    private int epochs;
    private ProgressBar bar;
    private int shown;
    private long start;

    /** {@code console} null: no progress bar. */
    ProgressReporter(RunLog log, PrintStream console) {
        this.log = log;
        this.console = console;
    }

    @Override
    public void onRunStart(RunStart start) {
        this.epochs = start.epochs();
    }

    @Override
    public void onEpochStart(int epoch, int images) {
        start = System.nanoTime();
        shown = 0;
        if (console == null) {
            return;
        }
        bar = new ProgressBarBuilder()
                .setTaskName(String.format("epoch %d/%d", epoch, epochs))
                .setInitialMax(images)
                .setUnit(" img", 1)
                .setStyle(ProgressBarStyle.ASCII)
                .setUpdateIntervalMillis(250)
                .setConsumer(new ConsoleProgressBarConsumer(console))
                .continuousUpdate()
                .build();
    }

    @Override
    public void onTrainingBatch(int images, double meanLoss) {
        if (bar != null) {
            bar.stepBy(images - shown);
            double secs = (System.nanoTime() - start) / 1e9;
            bar.setExtraMessage(String.format(Locale.ROOT, "loss %.4f  %.2f img/s", meanLoss, images / secs));
        }
        shown = images;
    }

    @Override
    public void onValidationStart(int epoch) {
        if (bar != null) {
            bar.close();
            bar = null;
        }
    }

    @Override
    public void onRunEnd() {
        onValidationStart(0);
    }

    @Override
    public void onEpochEnd(EpochEnd end) {
        MetricsCsv.Row r = end.row();
        String val = Double.isNaN(r.valLoss()) ? "(no validation images)" : String.format(Locale.ROOT,
                "val loss %.5f  AbsRel %.4f  delta1 %.4f  RMSE %.1f mm", r.valLoss(), r.valAbsRel(), r.valDelta1(),
                r.valRmse());
        log.info(String.format(Locale.ROOT, "epoch %d/%d  train loss %.5f  %s  lr %.3g  %.1fs%s",
                r.epoch(), epochs, r.trainLoss(), val, r.lr(), r.seconds(), end.improved() ? "  *best*" : ""));
    }
}
