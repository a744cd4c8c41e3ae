package com.loratool.deploy;

import com.loratool.LoraException;

/**
 * What an ONNX export looks like: fixed {@code height x width} (batch symbolic) or fully
 * {@code dynamic} (batch, height, width symbolic; multiples of the patch size), the opset, and
 * fp16 weights/activations. {@code batched}: the file will be run with batches of more than one
 * (a Triton model repository's dynamic batching), so a fixed-size certificate checks batch 2 as
 * well as batch 1 (a dynamic one always does).
 */
public record OnnxOptions(int height, int width, boolean dynamic, int opset, boolean fp16, boolean batched) {
    /** LayerNormalization is an ONNX op from 17 on; ONNX Runtime 1.22 reads opsets up to 21 safely. */
    public static final int MIN_OPSET = 17;
    public static final int MAX_OPSET = 21;
    public static final int DEFAULT_OPSET = 17;

    /** An export for one image at a time (what {@code lora predict --onnx} runs): batch 1 certified. */
    public OnnxOptions(int height, int width, boolean dynamic, int opset, boolean fp16) {
        this(height, width, dynamic, opset, fp16, false);
    }

    /** The same export, certified for batches ({@link #batched}). */
    public OnnxOptions asBatched() {
        return new OnnxOptions(height, width, dynamic, opset, fp16, true);
    }

    public OnnxOptions {
        if (opset < MIN_OPSET || opset > MAX_OPSET) {
            throw new LoraException("--opset " + opset + ": the graph needs opset " + MIN_OPSET
                    + " or later (LayerNormalization) and ONNX Runtime 1.22 runs up to " + MAX_OPSET
                    + "; give " + MIN_OPSET + ".." + MAX_OPSET);
        }
        if (height <= 0 || width <= 0) {
            throw new LoraException("--input-size " + height + "x" + width + ": must be positive");
        }
    }

    /** Checks the size against the patch size (multiples of it). */
    public void checkPatch(int patch) {
        if (height % patch != 0 || width % patch != 0) {
            int bad = height % patch != 0 ? height : width;
            long below = (long) (bad / patch) * patch;
            long above = below + patch;
            String e = below > 0 && above <= Integer.MAX_VALUE ? below + " or " + above
                    : below > 0 ? String.valueOf(below) : String.valueOf(above);
            throw new LoraException("--input-size " + (height == width ? String.valueOf(height) : height + "x" + width)
                    + ": must be a multiple of the patch size " + patch + " (e.g. " + e + ")");
        }
    }

    /** The ONNX IR version that goes with the opset. */
    long irVersion() {
        return opset <= 18 ? 8 : opset <= 20 ? 9 : 10;
    }

    /** The tolerance on relative L2 the parity certificate holds the file to. */
    public double tolerance() {
        return fp16 ? 5e-3 : 1e-4;
    }
}
