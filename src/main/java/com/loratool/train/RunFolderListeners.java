package com.loratool.train;

import com.loratool.LoraException;
import com.loratool.config.RunConfig;
import com.loratool.lora.LoraModel;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;

/**
 * What a training run keeps in its folder ({@code runs/<name>/}), as the listeners the
 * {@link Trainer} is given: {@code train.log} ({@link RunLog}), {@code metrics.csv} and
 * {@code loss.png} ({@link MetricsFiles}), {@code checkpoints/epoch-NNNN/} and {@code best/}
 * ({@link CheckpointWriter}), the console progress ({@link ProgressReporter}), the memory log and
 * early stopping. A run without a folder (the benchmark) uses none of them.
 */
public final class RunFolderListeners implements AutoCloseable {
    private final RunLog log;
    private final Checkpoints checkpoints;
    private final List<TrainingListener> listeners;

    /**
     * @param resume appends to train.log (and metrics.csv keeps the epochs done) instead of starting them anew
     * @param console progress and the per-epoch line (null: the log file only); {@code quiet}: no progress bars
     */
    public RunFolderListeners(Path runDir, RunConfig cfg, LoraModel lora, Trainer.BaseWeights base, boolean resume,
                              boolean quiet, PrintStream console) {
        this.log = new RunLog(runDir.resolve("train.log"), console, resume);
        this.checkpoints = new Checkpoints(runDir, cfg.train.keepLast());
        this.listeners = List.of(new MetricsFiles(runDir, cfg.runName()), new CheckpointWriter(checkpoints, lora, base),
                new ProgressReporter(log, quiet ? null : console), new MemoryLog(log),
                new EarlyStopping(cfg.train.earlyStopping(), log));
    }

    /** {@code trainer} with this folder's log and listeners, resumed from its newest checkpoint if {@code resume}. */
    public Trainer attach(Trainer trainer, boolean resume) {
        trainer.log(log);
        listeners.forEach(trainer::addListener);
        if (resume) {
            Path last = checkpoints.latest();
            if (last == null) {
                throw LoraException.file(checkpoints.bestDir().getParent(), "--resume: no checkpoint to resume from");
            }
            trainer.resumeFrom(checkpoints.load(last), last);
        }
        return trainer;
    }

    public RunLog log() {
        return log;
    }

    public Checkpoints checkpoints() {
        return checkpoints;
    }

    @Override
    public void close() {
        log.close();
    }
}
