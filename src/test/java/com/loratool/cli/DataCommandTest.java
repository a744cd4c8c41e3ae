package com.loratool.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.loratool.io.Npy;
import com.loratool.io.NpyArray;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class DataCommandTest {
    @TempDir
    Path dir;

    static final Path SAMPLES = Path.of(System.getProperty("project.root", "."), "data-samples");

    record Run(int rc, String out, String err) {}

    static Run run(String... args) {
        CommandLine cl = Main.commandLine();
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        int rc = cl.execute(args);
        return new Run(rc, out.toString(), err.toString());
    }

    @Test
    void checkPassesOnTheBundledSamples() {
        Run r = run("data", "check", "--data", SAMPLES.toString());
        assertEquals(0, r.rc(), r.out() + r.err());
        assertTrue(r.out().contains("12 pair(s): 12 usable, 0 unusable"), r.out());
    }

    @Test
    void checkReportsEveryProblemAndFails() throws Exception {
        Path img = dir.resolve("images");
        Path dep = dir.resolve("depth");
        Files.createDirectories(img);
        Files.createDirectories(dep);
        // copy three good pairs, then break them in three different ways; add an unpaired file
        String[] stems = {"21-12-03-18-50-00", "21-12-03-18-50-07", "21-12-03-18-50-14", "21-12-03-18-50-21"};
        for (String s : stems) {
            Files.copy(SAMPLES.resolve("images/" + s + "_Zivid_acquisition_color.png"), img.resolve(s + "_Zivid_acquisition_color.png"));
            Files.copy(SAMPLES.resolve("depth/" + s + "_Zivid_acquisition_rawDepth.npy"), dep.resolve(s + "_Zivid_acquisition_rawDepth.npy"));
        }
        Files.write(img.resolve(stems[0] + "_Zivid_acquisition_color.png"), new byte[] {1, 2, 3}); // corrupt PNG
        Path allNan = dep.resolve(stems[1] + "_Zivid_acquisition_rawDepth.npy");
        NpyArray a = Npy.read(allNan);
        float[] nan = new float[a.data().length];
        Arrays.fill(nan, Float.NaN);
        Npy.write(allNan, a.shape(), nan);
        Npy.write(dep.resolve(stems[2] + "_Zivid_acquisition_rawDepth.npy"), new long[] {10, 20, 3}, new float[600]);
        Files.writeString(dep.resolve("lonely.npy"), "x");

        Run r = run("data", "check", "--data", dir.toString());
        assertEquals(1, r.rc(), r.out() + r.err());
        assertTrue(r.out().contains("cannot decode image"), r.out());
        assertTrue(r.out().contains("no valid depth"), r.out());
        assertTrue(r.out().contains("depth is 20x10 but image"), r.out());
        assertTrue(r.out().contains("4 pair(s): 1 usable, 3 unusable; 1 unpaired"), r.out());
        assertTrue(r.err().contains("lonely.npy"), r.err());

        Run strict = run("data", "check", "--data", dir.toString(), "--strict");
        assertEquals(Main.EXIT_USER_ERROR, strict.rc());
        assertTrue(strict.err().startsWith("error: ") && strict.err().contains("lonely.npy"), strict.err());
    }

    @Test
    void emptyFolderIsAOneLineError() throws Exception {
        Files.createDirectories(dir.resolve("images"));
        Files.createDirectories(dir.resolve("depth"));
        Run r = run("data", "check", "--data", dir.toString());
        assertEquals(Main.EXIT_USER_ERROR, r.rc());
        assertEquals(1, r.err().strip().lines().count(), r.err());
        assertTrue(r.err().contains("no images"), r.err());
    }

    @Test
    void previewWritesPngsAndArrays() throws Exception {
        Path out = dir.resolve("prev");
        Run r = run("data", "preview", "--data", SAMPLES.toString(), "--output", out.toString(), "--scale", "10", "--npy");
        assertEquals(0, r.rc(), r.out() + r.err());
        String s = "21-12-03-18-50-00";
        for (String suffix : new String[] {"_rgb.png", "_z.png", "_mask.png"}) {
            assertTrue(Files.size(out.resolve(s + suffix)) > 100, suffix);
        }
        assertEquals("[3, 84, 140]", Npy.read(out.resolve(s + "_image.npy")).shapeString());
        assertEquals("[84, 140]", Npy.read(out.resolve(s + "_z.npy")).shapeString());
        NpyArray mask = Npy.read(out.resolve(s + "_mask.npy"));
        assertEquals("|b1", mask.dtype());
        NpyArray zfull = Npy.read(out.resolve(s + "_zfull.npy"));
        assertEquals("[108, 176]", zfull.shapeString());
        for (float v : zfull.data()) {
            assertTrue(v > 0 && Float.isFinite(v));
        }
        // measured pixels keep the camera's Z exactly
        float[] raw = Npy.read(SAMPLES.resolve("depth/" + s + "_Zivid_acquisition_rawDepth.npy")).data();
        for (int i = 0; i < zfull.data().length; i++) {
            if (Float.isFinite(raw[3 * i + 2])) {
                assertEquals(raw[3 * i + 2], zfull.data()[i]);
            }
        }
    }
}
