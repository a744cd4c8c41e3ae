package com.loratool.bench;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Random training data of a combination's shapes, seeded: images (N,3,H,W) like ImageNet-normalised
 * pixels (standard normal), depth (N,H,W) in metres (uniform 0.5..10, all pixels measured).
 * Timing does not depend on the values; they only have to be finite and of the right shapes.
 */
public final class SyntheticData {
    private final int images;
    private final int height;
    private final int width;
    private final float[] pixels;
    private final float[] depth;

    public SyntheticData(BenchSettings s, long seed) {
        this.images = s.images();
        this.height = s.height();
        this.width = s.width();
        SplittableRandom rng = new SplittableRandom(seed);
        int hw = height * width;
        pixels = new float[images * 3 * hw];
        for (int i = 0; i < pixels.length; i += 2) {
            // Box-Muller: two normals per pair of uniforms
            double u1 = 1 - rng.nextDouble();
            double u2 = rng.nextDouble();
            double rad = Math.sqrt(-2 * Math.log(u1));
            pixels[i] = (float) (rad * Math.cos(2 * Math.PI * u2));
            if (i + 1 < pixels.length) {
                pixels[i + 1] = (float) (rad * Math.sin(2 * Math.PI * u2));
            }
        }
        depth = new float[images * hw];
        for (int i = 0; i < depth.length; i++) {
            depth[i] = (float) (0.5 + 9.5 * rng.nextDouble());
        }
    }

    public int images() {
        return images;
    }

    /** Images {@code from..from+count-1} as one (count,3,H,W) array, row-major. */
    public float[] pixels(int from, int count) {
        int n = 3 * height * width;
        float[] out = new float[count * n];
        System.arraycopy(pixels, from * n, out, 0, count * n);
        return out;
    }

    /** Depth maps {@code from..from+count-1} as one (count,H,W) array. */
    public float[] depth(int from, int count) {
        int n = height * width;
        float[] out = new float[count * n];
        System.arraycopy(depth, from * n, out, 0, count * n);
        return out;
    }

    /** Every pixel measured: (count,H,W) true. */
    public boolean[] measured(int count) {
        boolean[] m = new boolean[count * height * width];
        Arrays.fill(m, true);
        return m;
    }
}
