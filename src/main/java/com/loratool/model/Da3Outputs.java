package com.loratool.model;

import com.loratool.LoraException;
import com.loratool.data.CameraIntrinsics;
import java.util.Arrays;

/**
 * What the official Depth Anything 3 code does with the monocular model's two outputs, as pure
 * functions over host arrays: the sky post-processing of {@code DepthAnything3Net}
 * ({@code _process_mono_sky_estimation}) and DA3METRIC's conversion to metres.
 */
public final class Da3Outputs {
    private Da3Outputs() {}

    /** A pixel is sky where the sky head's output is at least this (non-sky: below it). */
    public static final float SKY_THRESHOLD = 0.3f;
    /** Sky is filled only when more than this many pixels are sky and more than this many are not. */
    public static final int MIN_PIXELS = 10;
    /** The quantile of the non-sky depth that sky pixels get. */
    public static final double SKY_QUANTILE = 0.99;
    /** The focal, in pixels, DA3METRIC's output is expressed at. */
    public static final double CANONICAL_FOCAL = 300.0;

    /**
     * {@code _process_mono_sky_estimation}: over the whole batch at once (not per image), the
     * non-sky pixels are those with {@code sky < 0.3}; when both the non-sky and the sky pixel counts
     * exceed 10, every sky pixel gets the 0.99 quantile (linear interpolation, as
     * {@code torch.quantile}) of the non-sky depth. Returns a new array; {@code depth} and
     * {@code sky} (same length: the flattened B x H x W outputs) are not changed.
     *
     * <p>One deliberate difference: with more than 100 000 non-sky pixels the official code takes
     * the quantile of a random sample of 100 000 of them (torch's global random generator, so its
     * result varies from run to run); this takes the exact quantile over all non-sky pixels, the
     * value that sample estimates. Up to 100 000 non-sky pixels (e.g. 504 x 196 and below) the two
     * are the same computation.
     */
    public static float[] skyFill(float[] depth, float[] sky) {
        if (depth.length != sky.length) {
            throw new IllegalArgumentException("depth has " + depth.length + " values, sky " + sky.length);
        }
        int nonSky = 0;
        for (float s : sky) {
            if (s < SKY_THRESHOLD) {
                nonSky++;
            }
        }
        int skyCount = sky.length - nonSky;
        float[] out = depth.clone();
        if (nonSky <= MIN_PIXELS || skyCount <= MIN_PIXELS) {
            return out;
        }
        float[] ground = new float[nonSky];
        int j = 0;
        for (int i = 0; i < sky.length; i++) {
            if (sky[i] < SKY_THRESHOLD) {
                ground[j++] = depth[i];
            }
        }
        float fill = quantile(ground, SKY_QUANTILE);
        for (int i = 0; i < sky.length; i++) {
            if (!(sky[i] < SKY_THRESHOLD)) {
                out[i] = fill;
            }
        }
        return out;
    }

    /** The sky mask of {@link #skyFill}: true where {@code sky >= 0.3}. */
    public static boolean[] skyMask(float[] sky) {
        boolean[] m = new boolean[sky.length];
        for (int i = 0; i < sky.length; i++) {
            m[i] = !(sky[i] < SKY_THRESHOLD);
        }
        return m;
    }

    /**
     * {@code torch.quantile(values, q)} with linear interpolation: sorted values a, position
     * q (n - 1), a[lo] + (a[hi] - a[lo]) (position - lo), in float as torch computes it.
     */
    public static float quantile(float[] values, double q) {
        if (values.length == 0 || !(q >= 0 && q <= 1)) {
            throw new IllegalArgumentException("quantile " + q + " of " + values.length + " values");
        }
        float[] a = values.clone();
        Arrays.sort(a);
        double pos = q * (a.length - 1);
        int lo = (int) Math.floor(pos);
        int hi = Math.min(lo + 1, a.length - 1);
        float w = (float) (pos - lo);
        return a[lo] + w * (a[hi] - a[lo]);
    }

    /**
     * DA3METRIC's metres: {@code focal * output / 300} for each value, with {@code focal} in pixels
     * at the processed resolution (the average of fx and fy, {@link #focal}). Applied after the sky
     * post-processing, as the official README does. A focal that is zero, negative or not finite is
     * refused.
     */
    public static float[] metres(float[] output, double focal) {
        checkFocal(focal);
        float[] out = new float[output.length];
        float k = (float) (focal / CANONICAL_FOCAL);
        for (int i = 0; i < out.length; i++) {
            out[i] = output[i] * k;
        }
        return out;
    }

    /** The focal of {@link #metres}: (fx + fy) / 2, in pixels at the processed resolution. */
    public static double focal(double fx, double fy) {
        checkFocal(fx);
        checkFocal(fy);
        return (fx + fy) / 2;
    }

    /**
     * The focal of {@link #metres} for a network input of {@code w x h} made by resizing the whole
     * image that {@code camera} took (no crop): (fx + fy) / 2 of the intrinsics resized to the input
     * ({@link CameraIntrinsics#resizedTo}). Training's loss, its validation, lora eval and the sweep all
     * take DA3METRIC's metres at this focal.
     */
    public static double focalAt(CameraIntrinsics camera, int h, int w) {
        CameraIntrinsics k = camera.resizedTo(w, h);
        return focal(k.fx(), k.fy());
    }

    private static void checkFocal(double f) {
        if (!(f > 0 && Double.isFinite(f))) {
            throw new LoraException("focal " + f + " px: must be a positive finite number of pixels");
        }
    }
}
