package com.loratool.eval;

/** A model under evaluation: relative disparity (h x w, row-major) at the sample's image size. */
@FunctionalInterface
public interface DepthModel {
    float[] predict(EvalSample sample);
}
