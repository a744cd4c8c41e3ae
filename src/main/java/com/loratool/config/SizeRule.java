package com.loratool.config;

import com.loratool.LoraException;

/**
 * The one network-size rule: which {@code H x W} (multiples of the 14-pixel patch) an image of a
 * given size goes through the network at. Data preparation, training, eval, predict, the memory
 * check and export all ask a {@code SizeRule}; the arithmetic is {@link Sizing}'s.
 *
 * <ul>
 *   <li>{@link LowerBound}: the official {@code infer_image} rule (keep aspect, shorter side at
 *       least {@code inputSize}; {@code data.input_size}, {@code --input-size}).
 *   <li>{@link Scale}: width {@code 14*patches}, height from the aspect ratio ({@code data.scale}).
 *   <li>{@link Explicit}: a fixed {@code [H, W]} ({@code data.size}).
 * </ul>
 */
public sealed interface SizeRule {
    /** The official default input size of {@code infer_image}. */
    int DEFAULT_INPUT_SIZE = 518;

    /** The network size for an image of {@code height x width}. */
    Sizing.Size size(int height, int width);

    /** The smallest network size the rule gives any image (for checks before an image is read). */
    Sizing.Size smallest();

    /** A short key for cache folders: {@code size84x140}, {@code scale10} or {@code 518}. */
    String key();

    /** The rule in words, for reports. */
    String description();

    /** The official rule with {@code inputSize} (at least one patch). */
    static SizeRule lowerBound(int inputSize) {
        return new LowerBound(inputSize);
    }

    /** The official rule at 518. */
    static SizeRule official() {
        return new LowerBound(DEFAULT_INPUT_SIZE);
    }

    /** Keep aspect, shorter side at least {@code inputSize}, rounded to multiples of 14. */
    record LowerBound(int inputSize) implements SizeRule {
        public LowerBound {
            if (inputSize < Sizing.MULTIPLE) {
                throw new LoraException("input size " + inputSize + ": must be at least " + Sizing.MULTIPLE
                        + " (one patch)");
            }
        }

        @Override
        public Sizing.Size size(int height, int width) {
            return Sizing.lowerBound(height, width, inputSize);
        }

        @Override
        public Sizing.Size smallest() {
            return new Sizing.Size(inputSize, inputSize);
        }

        @Override
        public String key() {
            return Integer.toString(inputSize);
        }

        @Override
        public String description() {
            return "input size " + inputSize + " (keep aspect, lower bound)";
        }
    }

    /** Width {@code 14 * patches}, height from the aspect ratio. */
    record Scale(int patches) implements SizeRule {
        public Scale {
            if (patches <= 0) {
                throw new LoraException("data.scale: must be a positive number of patches, got " + patches);
            }
        }

        @Override
        public Sizing.Size size(int height, int width) {
            return Sizing.fromScale(height, width, patches);
        }

        @Override
        public Sizing.Size smallest() {
            return new Sizing.Size(Sizing.MULTIPLE, Sizing.MULTIPLE * patches);
        }

        @Override
        public String key() {
            return "scale" + patches;
        }

        @Override
        public String description() {
            return "scale " + patches + " (width " + Sizing.MULTIPLE * patches + ")";
        }
    }

    /** A fixed {@code height x width}, both positive multiples of 14. */
    record Explicit(int height, int width) implements SizeRule {
        public Explicit {
            Sizing.explicit(height, width);
        }

        @Override
        public Sizing.Size size(int imageHeight, int imageWidth) {
            return new Sizing.Size(height, width);
        }

        @Override
        public Sizing.Size smallest() {
            return new Sizing.Size(height, width);
        }

        @Override
        public String key() {
            return "size" + height + "x" + width;
        }

        @Override
        public String description() {
            return "size " + height + "x" + width;
        }
    }
}
