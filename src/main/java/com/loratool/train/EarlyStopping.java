package com.loratool.train;

/** Listener: ends the run when val_metric has not improved for {@code patience} epochs (0 = never). */
final class EarlyStopping implements TrainingListener {
    private final int patience;
    private final RunLog log;
    private String metric;
    private boolean stopped;

    EarlyStopping(int patience, RunLog log) {
        this.patience = patience;
        this.log = log;
    }

    @Override
    public void onRunStart(RunStart start) {
        this.metric = start.metric();
    }

    @Override
    public void onEpochEnd(EpochEnd end) {
        TrainerState s = end.state();
        if (patience > 0 && s.epochsWithoutImprovement >= patience) {
            log.info("early stopping: " + metric + " has not improved for " + patience + " epochs (best "
                    + s.bestValue + " at epoch " + s.bestEpoch + ")");
            stopped = true;
        }
    }

    @Override
    public boolean stopRequested() {
        return stopped;
    }
}
