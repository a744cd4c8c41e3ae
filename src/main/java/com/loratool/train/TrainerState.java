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
}
