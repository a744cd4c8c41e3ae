package com.loratool.eval;

/** A model under evaluation: its depth (h x w, row-major) at the sample's image size, in the model's unit (relative disparity, or metres for a metric model). */
@FunctionalInterface
public interface DepthModel {
    float[] predict(EvalSample sample);
}
