package com.loratool.config;

import com.loratool.LoraException;

/**
 * Network input sizes (multiples of the 14-pixel ViT patch). Pure functions, shared by the data
 * pipeline and by prediction.
 *
 * <ul>
 *   <li>{@link #lowerBound}: the official Depth Anything V2 rule ({@code util/transform.py
 *       Resize(keep_aspect_ratio=True, ensure_multiple_of=14, resize_method="lower_bound")}):
 *       scale so the shorter side reaches {@code inputSize}, then round each side to a multiple
 *       of 14 (NumPy round-half-to-even), never below {@code inputSize}.
 *   <li>{@link #fromScale}: width {@code 14*N}, height = width*H/W rounded to a multiple of 14
 *       (1944x1200 with N=10 gives 140 wide, 84 high).
 *   <li>{@link #explicit}: a given [H, W]; both must be positive multiples of 14.
 * </ul>
 */
public final class Sizing {
    /** The ViT patch size every side must be a multiple of. */
    public static final int MULTIPLE = 14;

    private Sizing() {}

    /** An output size in pixels. */
    public record Size(int height, int width) {
        @Override
        public String toString() {
            return width + "x" + height;
        }
    }

    /**
     * The official lower-bound, keep-aspect rule for an image of {@code width x height}.
     * Mirrors {@code Resize.get_size} + {@code constrain_to_multiple_of(min_val=inputSize)}.
     */
    public static Size lowerBound(int height, int width, int inputSize) {
        if (inputSize <= 0) {
            throw new LoraException("data.input_size: must be positive, got " + inputSize);
        }
        checkImage(height, width);
        double scaleH = (double) inputSize / height;
        double scaleW = (double) inputSize / width;
        if (scaleW > scaleH) {
            scaleH = scaleW; // fit width
        } else {
            scaleW = scaleH; // fit height
        }
        int h = constrain(scaleH * height, inputSize);
        int w = constrain(scaleW * width, inputSize);
        return new Size(h, w);
    }

    /** {@code constrain_to_multiple_of(x, min_val)} without max_val. */
    static int constrain(double x, int minVal) {
        int y = (int) (Math.rint(x / MULTIPLE) * MULTIPLE);
        if (y < minVal) {
            y = (int) (Math.ceil(x / MULTIPLE) * MULTIPLE);
        }
        return y;
    }

    /** Width {@code 14*scale}; height from the aspect ratio, rounded to a multiple of 14 (at least 14). */
    public static Size fromScale(int height, int width, int scale) {
        if (scale <= 0) {
            throw new LoraException("data.scale: must be a positive number of patches, got " + scale);
        }
        checkImage(height, width);
        int w = MULTIPLE * scale;
        double hExact = (double) w * height / width;
        int h = (int) Math.max(MULTIPLE, Math.rint(hExact / MULTIPLE) * MULTIPLE);
        return new Size(h, w);
    }

    /** An explicit [H, W]; both must be positive multiples of 14. */
    public static Size explicit(int height, int width) {
        if (height <= 0 || width <= 0 || height % MULTIPLE != 0 || width % MULTIPLE != 0) {
            throw new LoraException("data.size: [" + height + ", " + width + "] must be positive multiples of 14"
                    + " (e.g. [" + Math.max(MULTIPLE, Math.round(height / 14.0) * 14) + ", "
                    + Math.max(MULTIPLE, Math.round(width / 14.0) * 14) + "])");
        }
        return new Size(height, width);
    }

    private static void checkImage(int height, int width) {
        if (height <= 0 || width <= 0) {
            throw new LoraException("image size " + width + "x" + height + " is empty");
        }
    }
}
