package com.loratool.eval;

/** Metrics of both models on one image. */
public record ImageResult(String name, DepthMetrics lora, DepthMetrics original) {}
