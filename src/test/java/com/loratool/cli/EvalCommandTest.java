package com.loratool.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.loratool.data.Cv;
import com.loratool.eval.PanelRenderer;
import com.loratool.io.Checksums;
import com.loratool.io.Npy;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.opencv.core.Core;
import org.opencv.core.Mat;
import org.opencv.imgcodecs.Imgcodecs;

/** lora eval end to end on the tiny fixture model (input size 98) with two made-up image/depth pairs. */
class EvalCommandTest {
    static final Path FIXTURE = ExportImportCommandTest.FIXTURE;

    @BeforeAll
    static void opencv() {
        Cv.load();
    }

    /** images/a_color.png + depth/a_rawDepth.npy (XYZ, Z from the fixture's expected depth, NaN holes). */
    static Path data(Path dir) throws Exception {
        Path img = dir.resolve("data/images");
        Path dep = dir.resolve("data/depth");
        Files.createDirectories(img);
        Files.createDirectories(dep);
        Mat image = Imgcodecs.imread(FIXTURE.resolve("image.png").toString());
        float[] e = Npy.read(FIXTURE.resolve("expected_depth.npy")).data();
        int h = image.rows();
        int w = image.cols();
        for (String n : List.of("a", "b")) {
            Mat im = image;
            if (n.equals("b")) {
                im = new Mat();
                Core.flip(image, im, 1);
            }
            Imgcodecs.imwrite(img.resolve(n + "_color.png").toString(), im);
            float[] xyz = new float[h * w * 3];
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    int src = n.equals("b") ? y * w + (w - 1 - x) : y * w + x;
                    int i = y * w + x;
                    xyz[3 * i + 2] = (y < 10 && x < 30) ? Float.NaN : 100f / (0.01f + e[src]);
                }
            }
            Npy.write(dep.resolve(n + "_rawDepth.npy"), new long[] {h, w, 3}, xyz);
        }
        return dir.resolve("data");
    }

    @Test
    void writesTheReportAndCachesTheOriginal(@TempDir Path dir) throws Exception {
        Path ck = ExportImportCommandTest.checkpoint(dir, FIXTURE.resolve("weights.pth"),
                Checksums.sha256(FIXTURE.resolve("weights.pth")));
        Path data = data(dir);
        Path out = dir.resolve("eval");
        Path cache = dir.resolve("cache");
        String[] args = {"eval", "--checkpoint", ck.toString(), "--data", data.toString(), "--split", "all",
            "--model-config", FIXTURE.resolve("model.yaml").toString(), "--input-size", "98", "--output", out.toString(),
            "--cache-dir", cache.toString(), "--threads", "1"};
        StringWriter err = new StringWriter();
        assertEquals(0, ExportImportCommandTest.run(err, args), err.toString());
        JsonNode m = new ObjectMapper().readTree(out.resolve("metrics.json").toFile());
        assertEquals(2, m.get("images").asInt());
        // the original model is the fixture model and a's truth is 100 / (expected_depth + 0.01), an affine
        // function of its prediction in disparity: the alignment fits it exactly (b is mirrored, the model
        // is not mirror-symmetric, so b is not exact)
        assertEquals("a", m.at("/per_image/0/image").asText());
        assertTrue(m.at("/per_image/0/original/abs_rel").asDouble() < 1e-4, m.at("/per_image/0").toString());
        assertEquals(1.0, m.at("/per_image/0/original/delta1").asDouble());
        assertTrue(m.at("/mean/lora/abs_rel").asDouble() > m.at("/mean/original/abs_rel").asDouble());
        assertTrue(Files.readString(out.resolve("report.md")).contains("![a](panels/a.png)"));
        Mat pic = Imgcodecs.imread(out.resolve("panels/b.png").toString());
        assertEquals(PanelRenderer.pictureSize(210, 139, false)[0], pic.cols());
        assertEquals(PanelRenderer.pictureSize(210, 139, false)[1], pic.rows());
        long cached;
        try (Stream<Path> s = Files.walk(cache)) {
            cached = s.filter(p -> p.toString().endsWith(".npy")).count();
        }
        assertEquals(2, cached);

        // alpha scale 0 is the original model: LoRA and original agree exactly (and come from the cache)
        Path out0 = dir.resolve("eval0");
        args[12] = out0.toString();
        assertEquals(0, ExportImportCommandTest.run(err, append(args, "--alpha-scale", "0", "--no-pictures")), err.toString());
        JsonNode m0 = new ObjectMapper().readTree(out0.resolve("metrics.json").toFile());
        assertEquals(m.at("/mean/original/abs_rel").asDouble(), m0.at("/mean/lora/abs_rel").asDouble(), 0);
        assertEquals(0, m0.at("/mean/difference/rmse").asDouble(), 0);
    }

    static String[] append(String[] a, String... more) {
        String[] r = Arrays.copyOf(a, a.length + more.length);
        System.arraycopy(more, 0, r, a.length, more.length);
        return r;
    }

    @Test
    void refusesCheckpointsOnOtherWeights(@TempDir Path dir) throws Exception {
        Path ck = ExportImportCommandTest.checkpoint(dir, FIXTURE.resolve("weights.pth"),
                Checksums.sha256(FIXTURE.resolve("weights-fp16.pth")));
        StringWriter err = new StringWriter();
        assertEquals(2, ExportImportCommandTest.run(err, "eval", "--checkpoint", ck.toString(), "--data",
                data(dir).toString(), "--split", "all"));
        assertTrue(err.toString().contains("differs from the base weights checkpoint"), err.toString());
    }
}
