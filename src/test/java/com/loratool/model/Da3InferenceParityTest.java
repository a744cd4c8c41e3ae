package com.loratool.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.loratool.data.Cv;
import com.loratool.data.NetworkInput;
import com.loratool.data.Preprocessing;
import com.loratool.io.Npy;
import com.loratool.io.NpyArray;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.opencv.core.Mat;
import org.opencv.imgcodecs.Imgcodecs;

/**
 * The official {@code DepthAnything3.inference(["image.png"], process_res, "upper_bound_resize")}
 * from the image file: {@link Preprocessing#da3UpperBound}, the model, the sky post-processing;
 * da3-tiny-mono at process_res 154 (no resize) and 112 (154x98 → 112x71 → 112x70).
 */
class Da3InferenceParityTest {
    static final Path MONO = Fixtures.shared("da3-tiny-mono");

    private static void check(DepthAnythingV2 model, Mat bgr, int res, String input, String expected) {
        NetworkInput in = Preprocessing.da3UpperBound(bgr, res, 14);
        NpyArray wantIn = Npy.read(MONO.resolve(input));
        assertArrayEquals(new long[] {1, 1, 3, in.h(), in.w()}, wantIn.shape());
        double inErr = Fixtures.relL2(in.chw(), wantIn.data());
        float maxAbs = 0;
        for (int i = 0; i < in.chw().length; i++) {
            maxAbs = Math.max(maxAbs, Math.abs(in.chw()[i] - wantIn.data()[i]));
        }
        try (NDManager step = model.manager().newSubManager()) {
            NDArray x = step.create(in.chw(), new Shape(1, 3, in.h(), in.w()));
            DepthAnythingV2.DepthAndSky o = model.forwardWithSky(x);
            float[] depth = Da3Outputs.skyFill(o.depth().toFloatArray(), o.sky().toFloatArray());
            NpyArray want = Npy.read(MONO.resolve(expected));
            assertArrayEquals(new long[] {1, in.h(), in.w()}, want.shape());
            double err = Fixtures.relL2(depth, want.data());
            System.out.printf("da3-tiny-mono inference() from image.png at process_res %d (%dx%d): input relative L2 "
                    + "%.3g (max abs %.3g), depth relative L2 %.3g%n", res, in.w(), in.h(), inErr, maxAbs, err);
            assertTrue(inErr <= 1e-6, "input " + inErr);
            assertTrue(err <= 1e-4, "depth " + err);
        }
    }

    @Test
    void inferenceFromTheImageMatchesOfficialAtBothProcessRes() {
        Cv.load();
        Mat bgr = Cv.imread(MONO.resolve("image.png"), Imgcodecs.IMREAD_COLOR, "image");
        try (NDManager base = NDManager.newBaseManager()) {
            DepthAnythingV2 model = Da3Checkpoint.read(MONO).instantiate(base);
            check(model, bgr, 154, "input_tensor.npy", "expected_inference.npy");
            check(model, bgr, 112, "input_tensor_res112.npy", "expected_inference_res112.npy");
        } finally {
            bgr.release();
        }
    }
}
