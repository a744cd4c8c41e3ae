package com.loratool.train;

/**
 * trainer_state.json of an epoch checkpoint: what --resume needs beyond adapters and optimiser
 * moments. Random state is a function of (seed, epoch) (shuffling and dropout are re-seeded at
 * each epoch start), so the epoch number restores it.
 */
public class TrainerState {
    /** Epochs completed (1-based number of the last finished epoch). */
    public int epoch;
    /** Optimiser steps taken. */
    public long optimizerStep;
    public long seed;
    /** Best value of val_metric so far and its epoch (0 = none yet). */
    public double bestValue = Double.NaN;
    public int bestEpoch;
    /** Epochs since val_metric last improved (early stopping). */
    public int epochsWithoutImprovement;

    /**
     * Counts the finished epoch's metric value: true (and the new best) when it is finite and
     * better than the best so far (higher or lower as {@code higherIsBetter} says).
     */
    boolean recordEpoch(int finishedEpoch, double metric, boolean higherIsBetter) {
        epoch = finishedEpoch;
        boolean improved = Double.isFinite(metric)
                && (bestEpoch == 0 || (higherIsBetter ? metric > bestValue : metric < bestValue));
        if (improved) {
            bestValue = metric;
            bestEpoch = finishedEpoch;
            epochsWithoutImprovement = 0;
        } else {
            epochsWithoutImprovement++;
        }
        return improved;
    }
}
