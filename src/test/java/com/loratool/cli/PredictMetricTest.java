package com.loratool.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.loratool.io.Npy;
import com.loratool.io.NpyArray;
import com.loratool.model.DepthPredictor;
import com.loratool.model.Fixtures;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.opencv.core.CvType;
import org.opencv.core.Mat;
import org.opencv.imgcodecs.Imgcodecs;
import picocli.CommandLine;

/** {@code lora predict} on a metric model: depth in mm against the official infer_image (metres). */
class PredictMetricTest {
    static final Path DIR = Fixtures.shared("da2-tiny-metric");

    @TempDir
    Path tmp;

    private Path predict(String modelConfig, String... more) {
        Path out = tmp.resolve("out");
        StringWriter err = new StringWriter();
        int rc = execute(err, modelConfig, out, more);
        assertEquals(0, rc, err.toString());
        return out;
    }

    private static int execute(StringWriter err, String modelConfig, Path out, String... more) {
        CommandLine cl = Main.commandLine();
        cl.setErr(new PrintWriter(err, true));
        String[] args = {"predict", "--weights", DIR.resolve("weights.pth").toString(), "--input",
            DIR.resolve("image.png").toString(), "--output", out.toString(), "--input-size", "98",
            "--device", "cpu", "--model-config", modelConfig};
        String[] all = Arrays.copyOf(args, args.length + more.length);
        System.arraycopy(more, 0, all, args.length, more.length);
        return cl.execute(all);
    }

    /** A metric model's point cloud straight from its depth: X = (u - cx) Z / fx, Y = (v - cy) Z / fy, Z in mm. */
    @Test
    void metricModelWritesAPointCloudWithoutAlignment() throws Exception {
        Path out = predict(DIR.resolve("model.yaml").toString(), "--point-cloud", "--intrinsics", "100,120,40.5,30");
        NpyArray z = Npy.read(out.resolve("image.npy"));
        NpyArray xyz = Npy.read(out.resolve("image_xyz.npy"));
        long h = z.shape()[0];
        long w = z.shape()[1];
        assertArrayEquals(new long[] {h, w, 3}, xyz.shape());
        for (int v = 0; v < h; v += 7) {
            for (int u = 0; u < w; u += 5) {
                int i = (int) (v * w + u);
                float d = z.data()[i];
                assertEquals(d, xyz.data()[3 * i + 2], 0f, "Z at " + u + "," + v);
                assertEquals((u - 40.5) * d / 100, xyz.data()[3 * i], 1e-3 * Math.abs(d), "X at " + u + "," + v);
                assertEquals((v - 30) * d / 120, xyz.data()[3 * i + 1], 1e-3 * Math.abs(d), "Y at " + u + "," + v);
            }
        }
        assertTrue(Files.size(out.resolve("image.ply")) > h * w * 12, "binary ply with every pixel");
    }

    @Test
    void pointCloudNeedsIntrinsicsAndARelativeModelNeedsAlignment() {
        StringWriter err = new StringWriter();
        assertEquals(2, execute(err, DIR.resolve("model.yaml").toString(), tmp.resolve("a"), "--point-cloud"));
        assertTrue(err.toString().contains("--point-cloud needs intrinsics"), err.toString());
        assertFalse(Files.exists(tmp.resolve("a")), "nothing written");
        StringWriter err2 = new StringWriter();
        assertEquals(2, execute(err2, Fixtures.shared("da2-tiny").resolve("model.yaml").toString(), tmp.resolve("b"),
                "--point-cloud", "--intrinsics", "1,1,1,1"));
        assertTrue(err2.toString().contains("need --align-to DEPTH"), err2.toString());
    }

    @Test
    void metricModelWritesMillimetres() throws Exception {
        Path out = predict(DIR.resolve("model.yaml").toString());
        NpyArray metres = Npy.read(DIR.resolve("expected_depth.npy"));
        float[] wantMm = new float[metres.data().length];
        for (int i = 0; i < wantMm.length; i++) {
            wantMm[i] = metres.data()[i] * 1000f;
        }
        NpyArray mm = Npy.read(out.resolve("image.npy"));
        assertArrayEquals(metres.shape(), mm.shape());
        double e = Fixtures.relL2(mm.data(), wantMm);
        System.out.println("da2-tiny-metric predict (mm) relative L2 " + e);
        assertTrue(e < 1e-4, "relative L2 " + e);

        // 16-bit PNG in mm: the rounded values (max_depth 20 m: nothing near the 65535 clamp)
        DepthPredictor.loadOpenCv();
        Mat png = Imgcodecs.imread(out.resolve("image_mm.png").toString(), Imgcodecs.IMREAD_UNCHANGED);
        assertEquals(CvType.CV_16UC1, png.type());
        assertEquals(metres.shape()[0], png.rows());
        assertEquals(metres.shape()[1], png.cols());
        short[] px = new short[(int) png.total()];
        png.get(0, 0, px);
        png.release();
        double worst = 0;
        for (int i = 0; i < px.length; i++) {
            int v = Short.toUnsignedInt(px[i]);
            assertEquals(Math.round(mm.data()[i]), v, "pixel " + i + ": the .npy's mm, rounded");
            worst = Math.max(worst, Math.abs(v - wantMm[i]));
        }
        // half a mm of rounding plus the model's own difference (well under 0.1 mm here)
        assertTrue(worst <= 0.6, "largest |png - 1000 x expected| " + worst + " mm");

        // colour picture: the image and a colour bar with labels beside it
        Mat colour = Imgcodecs.imread(out.resolve("image.png").toString());
        assertEquals(metres.shape()[0], colour.rows());
        assertTrue(colour.cols() > metres.shape()[1], "no room for the colour bar: " + colour.cols());
        colour.release();
    }

    @Test
    void relativeModelKeepsItsOutputs() throws Exception {
        Path dir = Fixtures.shared("da2-tiny");
        Path out = tmp.resolve("rel");
        CommandLine cl = Main.commandLine();
        int rc = cl.execute("predict", "--weights", dir.resolve("weights.pth").toString(), "--input",
                dir.resolve("image.png").toString(), "--output", out.toString(), "--input-size", "98",
                "--device", "cpu", "--model-config", dir.resolve("model.yaml").toString());
        assertEquals(0, rc);
        assertTrue(Files.exists(out.resolve("image.npy")) && Files.exists(out.resolve("image.png")));
        assertFalse(Files.exists(out.resolve("image_mm.png")));
        DepthPredictor.loadOpenCv();
        Mat colour = Imgcodecs.imread(out.resolve("image.png").toString());
        assertEquals(Npy.read(dir.resolve("expected_depth.npy")).shape()[1], colour.cols()); // no colour bar
        colour.release();
    }
}
