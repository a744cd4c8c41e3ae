package com.loratool.serve;

import java.util.List;

/**
 * One checked infer request of the Open Inference Protocol: either {@code image} (FP32 N x 3 x H x W,
 * preprocessed) or {@code image_bytes} (BYTES [N]: encoded PNG/JPEG files), and how the output
 * {@code depth} goes back (JSON numbers, or the binary tensor data extension).
 *
 * @param id the client's request id, echoed back; may be null
 * @param tensor {@code image}'s values, n x 3 x h x w; null for {@code image_bytes}
 * @param files {@code image_bytes}' files; null for {@code image}
 * @param n the number of images
 * @param h the tensor's height (0 for files)
 * @param w the tensor's width (0 for files)
 * @param binaryOutput true: {@code depth} as binary data after the JSON header
 */
record InferenceRequest(String id, float[] tensor, List<byte[]> files, int n, int h, int w, boolean binaryOutput) {
    static final String IMAGE = "image";
    static final String IMAGE_BYTES = "image_bytes";
    static final String DEPTH = "depth";

    boolean isTensor() {
        return tensor != null;
    }
}
