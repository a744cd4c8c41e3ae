package com.loratool.train;

import java.util.List;

/** What the trainer consumes: training and validation samples (all one size) and the split's JSON. */
public record TrainingData(List<TrainSample> train, List<TrainSample> val, String splitJson) {}
