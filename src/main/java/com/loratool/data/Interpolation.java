package com.loratool.data;

import com.loratool.LoraException;
import org.opencv.imgproc.Imgproc;

/** Names of OpenCV interpolation modes used in the config. */
final class Interpolation {
    private Interpolation() {}

    static int image(String name) {
        return switch (name) {
            case "nearest" -> Imgproc.INTER_NEAREST;
            case "linear" -> Imgproc.INTER_LINEAR;
            case "cubic" -> Imgproc.INTER_CUBIC;
            case "area" -> Imgproc.INTER_AREA;
            case "lanczos" -> Imgproc.INTER_LANCZOS4;
            default -> throw new LoraException(
                    "data.image_interpolation: expected nearest, linear, cubic, area or lanczos, got " + name);
        };
    }
}
