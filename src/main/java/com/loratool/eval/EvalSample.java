package com.loratool.eval;

import com.loratool.data.NetworkInput;
import java.nio.file.Path;
import org.opencv.core.Mat;

/**
 * One evaluation image: its name (file stem), the 8-bit BGR image (for the pictures), the
 * measured depth Z in mm at the image's size, row-major, with NaN or non-positive values where
 * nothing was measured, and the network input made by the data stage exactly as for training
 * ({@code null}: the model preprocesses the image itself). {@code imageFile} identifies the image
 * for the prediction cache.
 */
public record EvalSample(String name, Path imageFile, Mat image, float[] depth, NetworkInput input) {
    public EvalSample(String name, Path imageFile, Mat image, float[] depth) {
        this(name, imageFile, image, depth, null);
    }

    public EvalSample {
        if ((long) image.rows() * image.cols() != depth.length) {
            throw new IllegalArgumentException(name + ": image is " + image.cols() + "x" + image.rows()
                    + " but the depth map has " + depth.length + " pixels");
        }
    }

    public int width() {
        return image.cols();
    }

    public int height() {
        return image.rows();
    }
}
