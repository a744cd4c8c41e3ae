package com.loratool.eval;

import com.loratool.LoraException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import org.opencv.core.Mat;
import org.opencv.core.MatOfByte;
import org.opencv.imgcodecs.Imgcodecs;

/** Atomic writes of report files (temp file in the same folder, then an atomic rename). */
public final class ReportFiles {
    private ReportFiles() {}

    public static void writeString(Path file, String text) {
        writeBytes(file, text.getBytes(StandardCharsets.UTF_8));
    }

    public static void writeBytes(Path file, byte[] bytes) {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        try {
            if (file.getParent() != null) {
                Files.createDirectories(file.getParent());
            }
            Files.write(tmp, bytes);
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw LoraException.file(file, "cannot write: " + e.getMessage(), e);
        }
    }

    /** Encodes an 8-bit BGR picture as PNG and writes it atomically. */
    public static void writePng(Path file, Mat picture) {
        MatOfByte buf = new MatOfByte();
        if (!Imgcodecs.imencode(".png", picture, buf)) {
            throw LoraException.file(file, "cannot encode PNG");
        }
        writeBytes(file, buf.toArray());
        buf.release();
    }
}
