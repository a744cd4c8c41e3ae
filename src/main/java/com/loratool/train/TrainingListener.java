package com.loratool.train;

/**
 * A part of a run that follows the training loop without being in it (as DJL's
 * TrainingListener): checkpoints, metrics.csv and loss.png, early stopping, progress, memory
 * log. A new concern is a new listener. Listeners are called in the order they were added.
 */
public interface TrainingListener {
    /** The run starts (after a resume: from its checkpoint's state), before the first epoch. */
    default void onRunStart(RunStart start) {}

    /** The epoch starts; {@code images} training images will be seen. */
    default void onEpochStart(int epoch, int images) {}

    /** A micro-batch was trained: {@code images} seen so far this epoch, their mean loss. */
    default void onTrainingBatch(int images, double meanLoss) {}

    /** The training pass of the epoch is over; validation starts. */
    default void onValidationStart(int epoch) {}

    /** The epoch is over; {@code end.state()} already counts it. */
    default void onEpochEnd(EpochEnd end) {}

    /** Whether the run should end after the epoch just finished (asked after every onEpochEnd). */
    default boolean stopRequested() {
        return false;
    }

    /** The run ends, normally or by an exception (release what the listener holds). */
    default void onRunEnd() {}

    /** What the user should know when the run stops with an error (e.g. the last good checkpoint); null: nothing. */
    default String failureNote() {
        return null;
    }

    /**
     * What a run starts from: the state (epoch 0, or a resumed checkpoint's), the optimiser (its
     * moments are saved with each checkpoint), the metric that picks best/ and early stopping
     * ({@code train.val_metric}, or train_loss without validation images), the planned epochs.
     */
    record RunStart(TrainerState state, AdapterOptimizer optimizer, String metric, int epochs) {}

    /** One finished epoch: its metrics row, whether val_metric improved, the state to checkpoint. */
    record EpochEnd(MetricsCsv.Row row, boolean improved, TrainerState state) {
        public int epoch() {
            return row.epoch();
        }
    }
}
