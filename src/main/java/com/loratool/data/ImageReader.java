package com.loratool.data;

import com.loratool.LoraException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.opencv.core.CvType;
import org.opencv.core.Mat;
import org.opencv.imgcodecs.Imgcodecs;
import org.opencv.imgproc.Imgproc;

/**
 * Reads a colour image with OpenCV (PNG, JPEG, BMP, TIFF; 8 or 16 bit; grey or colour) into an
 * RGB {@code CV_32FC3} Mat with values in [0, 1] (8-bit / 255, 16-bit / 65535). OpenCV decodes to
 * BGR; this class converts to RGB.
 */
public final class ImageReader {
    private ImageReader() {}

    public static Mat readRgb(Path file) {
        if (!Files.isRegularFile(file)) {
            throw LoraException.file(file, "file not found");
        }
        Mat raw = Cv.imread(file, Imgcodecs.IMREAD_ANYDEPTH | Imgcodecs.IMREAD_COLOR, "image");
        double scale;
        switch (raw.depth()) {
            case CvType.CV_8U -> scale = 1.0 / 255.0;
            case CvType.CV_16U -> scale = 1.0 / 65535.0;
            case CvType.CV_32F -> scale = 1.0;
            default -> throw LoraException.file(file, "unsupported image pixel type " + CvType.typeToString(raw.type())
                    + " (expected 8 or 16 bit)");
        }
        Mat f = new Mat();
        raw.convertTo(f, CvType.CV_32FC3, scale);
        raw.release();
        Mat rgb = new Mat();
        Imgproc.cvtColor(f, rgb, Imgproc.COLOR_BGR2RGB);
        f.release();
        return rgb;
    }

    /** An 8-bit BGR copy (for pictures) of an RGB [0, 1] image from {@link #readRgb}; the caller releases it. */
    public static Mat toBgr8(Mat rgb) {
        Mat bgr = new Mat();
        Imgproc.cvtColor(rgb, bgr, Imgproc.COLOR_RGB2BGR);
        Mat out = new Mat();
        bgr.convertTo(out, CvType.CV_8UC3, 255.0);
        bgr.release();
        return out;
    }
}
