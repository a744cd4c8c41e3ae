package com.loratool.data;

/**
 * A preprocessed network input: {@code 3 x h x w} (CHW) RGB, ImageNet-normalised, {@code h x w}
 * from the run's size rule (multiples of 14).
 */
public record NetworkInput(float[] chw, int h, int w) {
    public NetworkInput {
        if (chw.length != 3 * h * w) {
            throw new IllegalArgumentException("network input: " + chw.length + " values do not make 3x" + h + "x" + w);
        }
    }
}
