package com.loratool.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.loratool.config.DataConfig;
import com.loratool.data.CameraIntrinsics;
import com.loratool.data.DepthMap;
import com.loratool.data.PointCloud;
import com.loratool.io.Npy;
import com.loratool.io.NpyArray;
import com.loratool.model.Fixtures;
import java.awt.image.BufferedImage;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code lora data intrinsics} and {@code lora predict --align-to/--complete/--point-cloud} end to end. */
class GeometryCommandsTest {
    static final String STEM = "21-12-03-18-50-00_Zivid_acquisition";
    static final Path SAMPLES = Path.of("data-samples");

    @TempDir
    Path tmp;

    private int run(StringWriter out, StringWriter err, String... args) {
        CommandLine cl = Main.commandLine();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        return cl.execute(args);
    }

    @Test
    void intrinsicsOfARenderedSampleAndJsonRoundTrip() throws Exception {
        // scripts/MakeSamples.java renders with cx = (W - 1) / 2, cy = (H - 1) / 2 and fx = fy
        Path f = SAMPLES.resolve("depth").resolve(STEM + "_rawDepth.npy");
        Path json = tmp.resolve("k.json");
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        assertEquals(0, run(out, err, "data", "intrinsics", "--data", f.toString(), "--json", json.toString()), err.toString());
        CameraIntrinsics k = CameraIntrinsics.parseOrRead(json.toString());
        assertEquals(87.5, k.cx(), 0.01);
        assertEquals(53.5, k.cy(), 0.01);
        assertEquals(k.fx(), k.fy(), 0.001 * k.fx());
        assertTrue(k.fx() >= 150 && k.fx() <= 180, out.toString()); // MakeSamples draws focal in [150, 180)
        assertEquals(176, k.width());
        assertTrue(out.toString().contains("rms px"), out.toString());
    }

    @Test
    void predictAlignsCompletesAndWritesCloudsInTheSensorsLayout() throws Exception {
        Path images = Files.createDirectories(tmp.resolve("images"));
        Files.copy(SAMPLES.resolve("images").resolve(STEM + "_color.png"), images.resolve(STEM + "_color.png"));
        Path fixture = Fixtures.shared("da2-tiny");
        Path out = tmp.resolve("out");
        StringWriter err = new StringWriter();
        int rc = run(new StringWriter(), err, "predict", "--weights", fixture.resolve("weights.pth").toString(),
                "--model-config", fixture.resolve("model.yaml").toString(), "--input", images.toString(),
                "--output", out.toString(), "--input-size", "70", "--device", "cpu",
                "--align-to", SAMPLES.resolve("depth").toString(), "--align", "robust", "--complete", "--point-cloud");
        assertEquals(0, rc, err.toString());
        Path sensorFile = SAMPLES.resolve("depth").resolve(STEM + "_rawDepth.npy");
        PointCloud sensor = PointCloud.read(sensorFile, DataConfig.defaults(SAMPLES));
        String o = STEM + "_color";
        NpyArray depth = Npy.read(out.resolve(o + "_depth.npy"));
        NpyArray completed = Npy.read(out.resolve(o + "_completed.npy"));
        assertArrayEquals(new long[] {108, 176, 3}, depth.shape());
        assertArrayEquals(new long[] {108, 176, 3}, completed.shape());
        float[] s = sensor.xyz();
        float[] c = completed.data();
        for (int i = 0; i < s.length; i += 3) {
            if (DepthMap.measured(s[i + 2])) {
                for (int j = 0; j < 3; j++) {
                    assertEquals(Float.floatToIntBits(s[i + j]), Float.floatToIntBits(c[i + j]), "measured pixel " + i / 3);
                }
            } else {
                assertTrue(DepthMap.measured(c[i + 2]) && Float.isFinite(c[i]) && Float.isFinite(c[i + 1]),
                        "hole " + i / 3 + " filled");
            }
        }
        byte[] ply = Files.readAllBytes(out.resolve(o + ".ply"));
        String head = new String(ply, 0, 300, StandardCharsets.US_ASCII);
        assertTrue(head.startsWith("ply\nformat binary_little_endian 1.0\n"), head);
        assertTrue(head.contains("element vertex " + (108 * 176) + "\n"), head);
        int body = head.indexOf("end_header\n") + "end_header\n".length();
        // x, y, z float + red, green, blue uchar: each vertex coloured with its pixel (depth_to_pointcloud.py)
        assertTrue(head.contains("property float z\nproperty uchar red\nproperty uchar green\nproperty uchar blue\n"), head);
        assertEquals(108 * 176 * 15, ply.length - body);
        BufferedImage rgb = ImageIO.read(images.resolve(STEM + "_color.png").toFile());
        for (int v : new int[] {0, 176 * 50 + 77, 108 * 176 - 1}) {
            int px = rgb.getRGB(v % 176, v / 176);
            int at = body + v * 15 + 12;
            assertEquals((px >> 16) & 0xff, ply[at] & 0xff, "red of vertex " + v);
            assertEquals((px >> 8) & 0xff, ply[at + 1] & 0xff, "green of vertex " + v);
            assertEquals(px & 0xff, ply[at + 2] & 0xff, "blue of vertex " + v);
        }
        assertTrue(Files.exists(out.resolve(o + "_align.json")));
        assertTrue(Files.exists(out.resolve(o + ".npy")), "the relative prediction is still written");
    }

    @Test
    void geometryOptionsWithoutAlignToAreAnError() {
        Path fixture = Fixtures.shared("da2-tiny");
        StringWriter err = new StringWriter();
        int rc = run(new StringWriter(), err, "predict", "--weights", fixture.resolve("weights.pth").toString(),
                "--input", SAMPLES.resolve("images").toString(), "--output", tmp.resolve("o").toString(), "--complete");
        assertEquals(Main.EXIT_USER_ERROR, rc);
        assertTrue(err.toString().contains("--align-to"), err.toString());
        assertTrue(Files.notExists(tmp.resolve("o")), "nothing written");
    }

    @Test
    void evalCompletionWithPredictionsScoresAPerfectPredictionNearZero() throws Exception {
        Path data = tmp.resolve("d");
        Files.createDirectories(data.resolve("images"));
        Files.writeString(data.resolve("images").resolve("a.png"), "not decoded with --predictions");
        int h = 40;
        int w = 60;
        float[] z = new float[h * w];
        float[] pred = new float[h * w];
        for (int i = 0; i < z.length; i++) {
            z[i] = (float) (900 + 3 * (i % w) + 40 * Math.sin(i / w / 6.0));
            pred[i] = 2000f / z[i] - 1f;
        }
        Npy.write(data.resolve("depth").resolve("a.npy"), new long[] {h, w}, z);
        Npy.write(tmp.resolve("p").resolve("a.npy"), new long[] {h, w}, pred);
        Path csv = tmp.resolve("c.csv");
        StringWriter err = new StringWriter();
        assertEquals(0, run(new StringWriter(), err, "eval-completion", "--data", data.toString(), "--predictions",
                tmp.resolve("p").toString(), "--hole-fraction", "0.2", "--output", csv.toString()), err.toString());
        String[] all = Files.readAllLines(csv).get(2).split(",");
        assertTrue(all[0].startsWith("all"), all[0]);
        assertEquals(Math.round(0.2 * h * w), Long.parseLong(all[1]));
        assertTrue(Double.parseDouble(all[2]) < 1e-2, "completion MAE " + all[2]);
        assertTrue(Double.parseDouble(all[5]) > 1, "nearest-neighbour MAE " + all[5]);
    }

    /** A metric model's depth (mm files from lora predict) is inverted before the disparity fit. */
    @Test
    void evalCompletionInvertsMetricPredictionsInMm() throws Exception {
        Path data = tmp.resolve("d");
        Files.createDirectories(data.resolve("images"));
        Files.writeString(data.resolve("images").resolve("a.png"), "not decoded with --predictions");
        int h = 40;
        int w = 60;
        float[] z = new float[h * w];
        for (int i = 0; i < z.length; i++) {
            z[i] = (float) (900 + 3 * (i % w) + 40 * Math.sin(i / w / 6.0));
        }
        Npy.write(data.resolve("depth").resolve("a.npy"), new long[] {h, w}, z);
        Npy.write(tmp.resolve("p").resolve("a.npy"), new long[] {h, w}, z); // a perfect metric prediction, mm
        Path mm = tmp.resolve("mm.csv");
        Path asDisparity = tmp.resolve("disp.csv");
        StringWriter err = new StringWriter();
        assertEquals(0, run(new StringWriter(), err, "eval-completion", "--data", data.toString(), "--predictions",
                tmp.resolve("p").toString(), "--predictions-unit", "mm", "--output", mm.toString()), err.toString());
        assertEquals(0, run(new StringWriter(), err, "eval-completion", "--data", data.toString(), "--predictions",
                tmp.resolve("p").toString(), "--output", asDisparity.toString()), err.toString());
        double right = Double.parseDouble(Files.readAllLines(mm).get(2).split(",")[2]);
        double wrong = Double.parseDouble(Files.readAllLines(asDisparity).get(2).split(",")[2]);
        assertTrue(right < 1e-2, "completion MAE with --predictions-unit mm " + right);
        assertTrue(wrong > 10 * Math.max(right, 1e-3), "read as disparity the same depth fits worse: " + wrong);
    }
}
