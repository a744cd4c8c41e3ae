package com.loratool.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.loratool.data.Cv;
import com.loratool.io.Checksums;
import com.loratool.io.Npy;
import com.loratool.model.Fixtures;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.opencv.core.CvType;
import org.opencv.core.Mat;
import org.opencv.core.Scalar;
import org.opencv.imgcodecs.Imgcodecs;

/** Issue 14, parts 4 and 6 through predict, data and eval: sizes bounded before allocating, one-line errors, nothing half-written. */
class CommandFaultsTest {
    @TempDir
    Path tmp;

    @BeforeAll
    static void opencv() {
        Cv.load();
    }

    static String oneLine(String err) {
        String e = err.strip();
        assertEquals(1, e.lines().count(), e);
        return e;
    }

    @Test
    void predictRefusesAnAbsurdInputSizeBeforeAllocating() {
        Path dir = Fixtures.shared("da2-tiny");
        StringWriter err = new StringWriter();
        int rc = ExportImportCommandTest.run(err, "predict", "--weights", dir.resolve("weights.pth").toString(),
                "--model-config", dir.resolve("model.yaml").toString(), "--input", dir.resolve("image.png").toString(),
                "--output", tmp.resolve("o").toString(), "--input-size", "20000", "--device", "cpu");
        assertEquals(Main.EXIT_USER_ERROR, rc, err.toString());
        String e = oneLine(err.toString());
        assertTrue(e.startsWith("error: predict of image.png (") && e.contains(" of memory (estimate), ")
                && e.endsWith("(--no-memory-check to try anyway)"), e);
        assertFalse(Files.exists(tmp.resolve("o/image.npy")));
    }

    @Test
    void predictOutputNamingAFileIsAOneLineError() throws Exception {
        Path dir = Fixtures.shared("da2-tiny");
        Path file = Files.writeString(tmp.resolve("out.txt"), "keep me");
        StringWriter err = new StringWriter();
        int rc = ExportImportCommandTest.run(err, "predict", "--weights", dir.resolve("weights.pth").toString(),
                "--model-config", dir.resolve("model.yaml").toString(), "--input", dir.resolve("image.png").toString(),
                "--output", file.toString());
        assertEquals(Main.EXIT_USER_ERROR, rc, err.toString());
        assertEquals("error: " + file + ": --output: exists and is not a folder (give a folder for the results)",
                oneLine(err.toString()));
        assertEquals("keep me", Files.readString(file));
    }

    @Test
    void dataPreviewRefusesAnAbsurdSizeBeforeDecoding() {
        DataCommandTest.Run r = DataCommandTest.run("data", "preview", "--data", DataCommandTest.SAMPLES.toString(),
                "--output", tmp.resolve("p").toString(), "--input-size", "300000");
        assertEquals(Main.EXIT_USER_ERROR, r.rc(), r.err());
        String e = oneLine(r.err());
        assertTrue(e.startsWith("error: data preview of ") && e.contains("x300006: needs about ")
                && e.endsWith("(--no-memory-check to try anyway)"), e);
        assertFalse(Files.exists(tmp.resolve("p")));
    }

    @Test
    void aOnePixelImageIsNotOk() throws Exception {
        Path data = tmp.resolve("d");
        Files.createDirectories(data.resolve("images"));
        Files.createDirectories(data.resolve("depth"));
        Imgcodecs.imwrite(data.resolve("images/a.png").toString(), new Mat(1, 1, CvType.CV_8UC3, new Scalar(9, 9, 9)));
        Npy.write(data.resolve("depth/a.npy"), new long[] {1, 1}, new float[] {500f});
        DataCommandTest.Run r = DataCommandTest.run("data", "check", "--data", data.toString());
        assertEquals(1, r.rc(), r.out() + r.err());
        assertTrue(r.out().contains("image is 1x1, too small (at least 14x14, one patch)"), r.out());
        assertTrue(r.out().contains("1 pair(s): 0 usable, 1 unusable"), r.out());
    }

    @Test
    void evalStoppedByACorruptImageLeavesNoPartialPanels() throws Exception {
        Path fixture = EvalCommandTest.FIXTURE;
        Path ck = ExportImportCommandTest.checkpoint(tmp, fixture.resolve("weights.pth"),
                Checksums.sha256(fixture.resolve("weights.pth")));
        Path data = EvalCommandTest.data(tmp);
        // a third pair, read after a and b have their pictures: its image is corrupt, and --fail-fast stops there
        // (without it the pair is left out: BatchContinuationTest)
        Files.writeString(data.resolve("images/c_color.png"), "not a png");
        Files.copy(data.resolve("depth/a_rawDepth.npy"), data.resolve("depth/c_rawDepth.npy"));
        Path out = tmp.resolve("eval");
        StringWriter err = new StringWriter();
        int rc = ExportImportCommandTest.run(err, "eval", "--checkpoint", ck.toString(), "--data", data.toString(),
                "--split", "all", "--model-config", fixture.resolve("model.yaml").toString(), "--input-size", "98",
                "--output", out.toString(), "--no-cache", "--threads", "1", "--fail-fast");
        assertEquals(Main.EXIT_USER_ERROR, rc, err.toString());
        assertTrue(err.toString().contains("c_color.png"), err.toString());
        try (Stream<Path> s = Files.exists(out) ? Files.walk(out) : Stream.empty()) {
            assertEquals(0, s.filter(Files::isRegularFile).count(), "files left in " + out);
        }
    }
}
