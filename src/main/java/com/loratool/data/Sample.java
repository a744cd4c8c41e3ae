package com.loratool.data;

/**
 * One model-ready training example at network size {@code h x w} (multiples of 14).
 *
 * @param stem the pair's stem (file name without suffix)
 * @param image {@code 3 x h x w} (CHW) RGB, ImageNet-normalised ({@link Preprocessing})
 * @param depth {@code h x w} Z in millimetres, holes filled with the nearest measured value
 * @param mask {@code h x w}, true where Z was truly measured (resized with nearest)
 */
public record Sample(String stem, float[] image, float[] depth, boolean[] mask, int h, int w) {
    public Sample {
        if (image.length != 3 * h * w || depth.length != h * w || mask.length != h * w) {
            throw new IllegalArgumentException("sample " + stem + ": arrays do not match " + h + "x" + w);
        }
    }

    public int measuredCount() {
        int n = 0;
        for (boolean b : mask) {
            if (b) {
                n++;
            }
        }
        return n;
    }
}
