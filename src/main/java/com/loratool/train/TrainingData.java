package com.loratool.train;

import java.util.List;
import java.util.function.IntFunction;

/**
 * What the trainer consumes: training and validation samples (one size) and, optionally, the
 * training samples of each epoch (shuffled and augmented by the data stage, a function of the
 * epoch only). Without it the trainer shuffles {@code train} itself with (seed, epoch).
 */
public record TrainingData(List<TrainSample> train, List<TrainSample> val, IntFunction<List<TrainSample>> epochSamples) {
    public TrainingData(List<TrainSample> train, List<TrainSample> val) {
        this(train, val, null);
    }
}
