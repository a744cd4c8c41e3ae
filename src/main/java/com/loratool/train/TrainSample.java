package com.loratool.train;

/**
 * One model-ready example: {@code image} (3, h, w) normalised RGB, {@code depth} (h, w) Z > 0
 * (holes filled), {@code mask} (h, w) 1 where Z was measured, 0 where it was filled.
 */
public record TrainSample(String id, int height, int width, float[] image, float[] depth, float[] mask) {
    public TrainSample {
        int hw = height * width;
        if (image.length != 3 * hw || depth.length != hw || mask.length != hw) {
            throw new IllegalArgumentException(id + ": arrays do not match " + height + "x" + width);
        }
    }
}
