package com.loratool.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.loratool.io.Npy;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.opencv.core.CvType;
import org.opencv.core.Mat;
import org.opencv.core.Scalar;
import org.opencv.imgcodecs.Imgcodecs;

/** The names predict claims for one image's geometry outputs are the names the writers write. */
class GeometryOutputsNamesTest {
    @TempDir
    Path tmp;

    @BeforeAll
    static void opencv() {
        Cv.load();
    }

    @Test
    void everyFileWrittenIsOneOfTheClaimedNames() throws Exception {
        int h = 6;
        int w = 8;
        Path image = tmp.resolve("x.png");
        Imgcodecs.imwrite(image.toString(), new Mat(h, w, CvType.CV_8UC3, new Scalar(10, 20, 30)));
        float[] z = new float[h * w];
        float[] pred = new float[h * w];
        for (int i = 0; i < z.length; i++) {
            z[i] = i % 5 == 0 ? 0 : 1000 + 10 * i; // mm, some holes to complete
            pred[i] = 1f / (1000 + 10 * i);
        }
        Path depth = tmp.resolve("x.npy");
        Npy.write(depth, new long[] {h, w}, z);
        GeometryOutputs g = new GeometryOutputs(new GeometryOutputs.Settings(depth, false, true, true, false,
                new CameraIntrinsics(8, 8, 3.5, 2.5, w, h)), List.of(image));
        Path out = Files.createDirectories(tmp.resolve("out"));
        List<Path> written = g.write(out, "x", image, pred, h, w).files();
        List<Path> claimed = g.fileNames("x").stream().map(out::resolve).toList();
        assertEquals(5, written.size(), written.toString()); // depth, completed, xyz, ply, align: every output
        assertTrue(claimed.containsAll(written), "claimed " + claimed + ", written " + written);
        for (Path f : written) {
            assertTrue(Files.isRegularFile(f), f.toString());
        }
    }
}
