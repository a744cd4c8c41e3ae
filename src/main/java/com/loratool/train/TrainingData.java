package com.loratool.train;

import com.loratool.data.EpochOrder;
import com.loratool.data.Sample;
import java.util.List;
import java.util.function.IntFunction;

/**
 * What the trainer consumes: training and validation samples (the data stage's {@link Sample}s,
 * one size) and the training samples of each epoch (shuffled, and augmented where the data set
 * says so, by the data stage: a function of the epoch only).
 */
public record TrainingData(List<Sample> train, List<Sample> val, IntFunction<List<Sample>> epochSamples) {
    /** Samples without augmentation, shuffled each epoch by the data stage's rule ({@link EpochOrder}) with {@code seed}. */
    public TrainingData(List<Sample> train, List<Sample> val, long seed) {
        this(train, val, epoch -> EpochOrder.shuffled(train, EpochOrder.random(seed, epoch)));
    }
}
