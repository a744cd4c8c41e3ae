package com.loratool.eval;

import com.loratool.metrics.DepthMetrics;

/** Metrics of both models on one image. */
public record ImageResult(String name, DepthMetrics lora, DepthMetrics original) {}
