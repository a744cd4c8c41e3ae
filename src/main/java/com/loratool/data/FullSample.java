package com.loratool.data;

import org.opencv.core.Mat;

/**
 * One pair read at the files' full resolution (evaluation scores here, not at network size).
 *
 * @param pair the files
 * @param rgb {@code h x w} RGB {@code CV_32FC3} in [0, 1] (the owner releases it)
 * @param z {@code h x w} Z in millimetres, NaN, inf or {@code <= 0} where nothing was measured
 */
public record FullSample(Pair pair, Mat rgb, float[] z, int h, int w) {}
