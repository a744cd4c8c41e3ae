package com.loratool.eval;

import com.loratool.LoraException;
import com.loratool.io.AtomicFiles;
import java.nio.file.Path;
import org.opencv.core.Mat;
import org.opencv.core.MatOfByte;
import org.opencv.imgcodecs.Imgcodecs;

/** Report files, written atomically ({@link AtomicFiles}). */
public final class ReportFiles {
    private ReportFiles() {}

    public static void writeString(Path file, String text) {
        AtomicFiles.writeString(file, text);
    }

    /** Encodes an 8-bit BGR picture as PNG and writes it atomically. */
    public static void writePng(Path file, Mat picture) {
        MatOfByte buf = new MatOfByte();
        try {
            if (!Imgcodecs.imencode(".png", picture, buf)) {
                throw LoraException.file(file, "cannot encode PNG");
            }
            AtomicFiles.writeBytes(file, buf.toArray());
        } finally {
            buf.release();
        }
    }
}
