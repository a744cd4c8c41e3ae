package com.loratool.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.loratool.config.ConfigLoader;
import com.loratool.config.RunConfig;
import com.loratool.data.Cv;
import com.loratool.io.Npy;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.opencv.core.CvType;
import org.opencv.core.Mat;
import org.opencv.imgcodecs.Imgcodecs;

/**
 * Train a tiny run (configs/tiny-model.yaml, seeded random weights, one epoch) on data made here,
 * then {@code lora eval --checkpoint} and {@code lora predict --checkpoint} with no extra flags:
 * eval must read the run's own data settings (renamed folders + .npz; 16-bit PNG + depth_scale)
 * and both must use the run's network size.
 */
class RunEvalEndToEndTest {
    static final int H = 84;
    static final int W = 126;

    @TempDir
    Path dir;

    @BeforeAll
    static void opencv() {
        Cv.load();
    }

    /** Z in mm: a tilted plane with a few unmeasured pixels. */
    static float[] depth(int k) {
        float[] z = new float[H * W];
        for (int y = 0; y < H; y++) {
            for (int x = 0; x < W; x++) {
                z[y * W + x] = (y < 3 && x < 5) ? Float.NaN : 600f + 4f * x + (3f + k) * y;
            }
        }
        return z;
    }

    static void image(Path file, int k) {
        Random r = new Random(k);
        byte[] px = new byte[H * W * 3];
        for (int i = 0; i < px.length; i++) {
            px[i] = (byte) ((i / 3 % W) * 2 + r.nextInt(30));
        }
        Mat m = new Mat(H, W, CvType.CV_8UC3);
        m.put(0, 0, px);
        Imgcodecs.imwrite(file.toString(), m);
        m.release();
    }

    /** A .npz holding one H x W x 3 XYZ array named {@code xyz}. */
    static void npz(Path file, float[] z) throws Exception {
        float[] xyz = new float[z.length * 3];
        for (int i = 0; i < z.length; i++) {
            xyz[3 * i + 2] = z[i];
        }
        Path tmp = file.resolveSibling("xyz.npy");
        Npy.write(tmp, new long[] {H, W, 3}, xyz);
        try (OutputStream o = Files.newOutputStream(file); ZipOutputStream zip = new ZipOutputStream(o)) {
            zip.putNextEntry(new ZipEntry("xyz.npy"));
            zip.write(Files.readAllBytes(tmp));
            zip.closeEntry();
        }
        Files.delete(tmp);
    }

    /** A 16-bit PNG storing Z in 0.1 mm steps (0 = unmeasured). */
    static void png16(Path file, float[] z) {
        short[] v = new short[z.length];
        for (int i = 0; i < z.length; i++) {
            v[i] = Float.isNaN(z[i]) ? 0 : (short) Math.round(z[i] * 10);
        }
        Mat m = new Mat(H, W, CvType.CV_16UC1);
        m.put(0, 0, v);
        Imgcodecs.imwrite(file.toString(), m);
        m.release();
    }

    Path trainRun(String name, String dataSection) throws Exception {
        Path cfg = dir.resolve(name + ".yaml");
        Files.writeString(cfg, """
                model:
                  weights: random
                  config: configs/tiny-model.yaml
                data:
                %s
                  scale: 3
                  val_fraction: 0.34
                lora:
                  r: 2
                  targets: [qkv]
                train:
                  epochs: 1
                  batch_size: 2
                  threads: 1
                  output_dir: %s
                """.formatted(dataSection, dir.resolve("runs")));
        TrainCommandTest.Run r = TrainCommandTest.run("train", "--config", cfg.toString(), "--quiet");
        assertEquals(0, r.code(), r.err());
        return dir.resolve("runs").resolve(name);
    }

    JsonNode eval(Path run, String... more) throws Exception {
        Path out = dir.resolve("eval-" + run.getFileName() + more.length);
        String[] args = {"eval", "--checkpoint", run.resolve("best").toString(), "--output", out.toString(),
            "--cache-dir", dir.resolve("cache").toString(), "--no-pictures", "--threads", "1"};
        String[] all = Arrays.copyOf(args, args.length + more.length);
        System.arraycopy(more, 0, all, args.length, more.length);
        TrainCommandTest.Run r = TrainCommandTest.run(all);
        assertEquals(0, r.code(), r.err());
        assertTrue(Files.readString(out.resolve("report.md")).contains("scale 3 (width 42)"),
                Files.readString(out.resolve("report.md")));
        return new ObjectMapper().readTree(out.resolve("metrics.json").toFile());
    }

    @Test
    void npzInRenamedFoldersIsEvaluatedWithTheRunsSettings() throws Exception {
        Path data = dir.resolve("renamed");
        Files.createDirectories(data.resolve("rgb"));
        Files.createDirectories(data.resolve("zmaps"));
        for (int k = 0; k < 3; k++) {
            image(data.resolve("rgb/s" + k + "_color.png"), k);
            npz(data.resolve("zmaps/s" + k + "_xyz.npz"), depth(k));
        }
        Path run = trainRun("renamed", "  root: " + data + "\n  images_dir: rgb\n  depth_dir: zmaps");
        RunConfig written = ConfigLoader.load(run.resolve("config.yaml"), List.of());
        assertEquals("rgb", written.data.imagesDir());
        assertEquals("zmaps", written.data.depthDir());
        JsonNode m = eval(run);
        assertEquals(1, m.get("images").asInt()); // the run's validation pair
        assertTrue(Double.isFinite(m.at("/mean/lora/abs_rel").asDouble()), m.toString());

        // --data: another folder laid out the same way; --set data.*: one laid out differently
        Path other = dir.resolve("other");
        Files.createDirectories(other.resolve("pics"));
        Files.createDirectories(other.resolve("zmaps"));
        for (int k = 0; k < 3; k++) {
            image(other.resolve("pics/s" + k + ".png"), k + 5);
            npz(other.resolve("zmaps/s" + k + ".npz"), depth(k + 5));
        }
        JsonNode all = eval(run, "--data", other.toString(), "--set", "data.images_dir=pics", "--split", "all");
        assertEquals(3, all.get("images").asInt());
    }

    @Test
    void sixteenBitPngDepthWithDepthScaleIsEvaluated() throws Exception {
        Path data = dir.resolve("png");
        Files.createDirectories(data.resolve("images"));
        Files.createDirectories(data.resolve("depth"));
        for (int k = 0; k < 3; k++) {
            image(data.resolve("images/p" + k + ".png"), k);
            png16(data.resolve("depth/p" + k + ".png"), depth(k));
        }
        Path run = trainRun("png", "  root: " + data + "\n  depth_scale: 0.1");
        JsonNode m = eval(run);
        assertEquals(1, m.get("images").asInt());
        assertTrue(Double.isFinite(m.at("/mean/original/abs_rel").asDouble()), m.toString());
        // the truth is a plane: a degenerate (all-zero) read would make the alignment fail, not score
        assertTrue(m.at("/mean/original/delta1").asDouble() > 0, m.toString());

        // predict --checkpoint: the run's size rule (scale 3: 42 x 28 for 126 x 84), as eval
        Path img = data.resolve("images/p0.png");
        String ck = run.resolve("best").toString();
        for (String[] extra : List.of(new String[0], new String[] {"--input-size", "28"},
                new String[] {"--input-size", "518"})) {
            String[] args = {"predict", "--checkpoint", ck, "--input", img.toString(), "--output",
                dir.resolve("pred" + extra.length + (extra.length > 0 ? extra[1] : "")).toString(), "--threads", "1"};
            String[] all = Arrays.copyOf(args, args.length + extra.length);
            System.arraycopy(extra, 0, all, args.length, extra.length);
            TrainCommandTest.Run r = TrainCommandTest.run(all);
            assertEquals(0, r.code(), r.err());
        }
        float[] runSize = Npy.read(dir.resolve("pred0/p0.npy")).data();
        float[] size28 = Npy.read(dir.resolve("pred228/p0.npy")).data();   // lower bound 28: also 28 x 42
        float[] size518 = Npy.read(dir.resolve("pred2518/p0.npy")).data(); // the old default
        assertArrayEquals(size28, runSize);
        assertFalse(Arrays.equals(size518, runSize));
    }
}
