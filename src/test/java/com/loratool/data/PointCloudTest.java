package com.loratool.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.loratool.config.DataConfig;
import com.loratool.io.Npy;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PointCloudTest {
    static final int H = 120;
    static final int W = 160;
    static final CameraIntrinsics TRUE = new CameraIntrinsics(200, 205, 81.3, 58.7, W, H);

    /** A curved surface seen by the pinhole TRUE, with NaN holes; noise in mm on X, Y, Z (seeded). */
    static PointCloud rendered(double noiseMm, long seed) {
        Random r = new Random(seed);
        float[] z = new float[H * W];
        for (int v = 0; v < H; v++) {
            for (int u = 0; u < W; u++) {
                z[v * W + u] = (float) (800 + 0.9 * u + 0.4 * v + 40 * Math.sin(u / 9.0) * Math.cos(v / 13.0));
            }
        }
        for (int i = 0; i < z.length; i++) {
            int u = i % W;
            int v = i / W;
            boolean blob = (u - 50) * (u - 50) + (v - 40) * (v - 40) < 15 * 15;
            if (blob || u < 3 || r.nextDouble() < 0.1) {
                z[i] = Float.NaN;
            }
        }
        PointCloud c = PointCloud.fromDepth(z, H, W, TRUE);
        float[] p = c.xyz();
        for (int i = 0; i < p.length; i++) {
            p[i] += (float) (noiseMm * r.nextGaussian());
        }
        return c;
    }

    @Test
    void intrinsicsRecoveredFromRenderedCloudWithHoles() {
        PointCloud c = rendered(0.05, 3);
        IntrinsicsFit fit = IntrinsicsFit.of(c, Path.of("test.npy"));
        CameraIntrinsics k = fit.intrinsics();
        assertEquals(TRUE.fx(), k.fx(), 0.005 * TRUE.fx());
        assertEquals(TRUE.fy(), k.fy(), 0.005 * TRUE.fy());
        assertEquals(TRUE.cx(), k.cx(), 0.5);
        assertEquals(TRUE.cy(), k.cy(), 0.5);
        assertEquals(W, k.width());
        assertEquals(c.countMeasured(), fit.pixels());
        assertTrue(fit.rmsPixels() < 0.1, "rms " + fit.rmsPixels());
        // noise of 0.05 mm on X and Y: RMS of the 2-D residual is about 0.05 * sqrt(2)
        assertEquals(0.05 * Math.sqrt(2), fit.rmsMm(), 0.01);
    }

    @Test
    void depthToXyzToDepthRoundTripIsExactOnMeasuredPixels(@TempDir Path dir) {
        PointCloud c = rendered(0, 5);
        float[] z = c.z();
        Path f = dir.resolve("cloud.npy");
        c.writeNpy(f);
        PointCloud back = PointCloud.readIfXyz(f, DataConfig.defaults(dir));
        float[] z2 = back.z();
        int measured = 0;
        for (int i = 0; i < z.length; i++) {
            if (DepthMap.measured(z[i])) {
                measured++;
                assertEquals(z[i], z2[i], 0f);
                assertEquals(c.xyz()[3 * i], back.xyz()[3 * i], 0f);
                // X back to the pixel column through the pinhole
                double u = TRUE.fx() * back.xyz()[3 * i] / z2[i] + TRUE.cx();
                assertEquals(i % W, u, 1e-3);
            } else {
                assertTrue(Float.isNaN(z2[i]) && Float.isNaN(back.xyz()[3 * i]));
            }
        }
        assertEquals(measured, back.countMeasured());
        // Z read through the data pipeline's reader is the same
        float[] z3 = DepthReader.read(f, DataConfig.defaults(dir)).z();
        for (int i = 0; i < z.length; i++) {
            assertEquals(Float.floatToIntBits(z2[i]), Float.floatToIntBits(z3[i]));
        }
    }

    @Test
    void zOnlyFileIsNotAnXyzCloud(@TempDir Path dir) {
        Path f = dir.resolve("z.npy");
        Npy.write(f, new long[] {2, 3}, new float[6]);
        assertEquals(null, PointCloud.readIfXyz(f, DataConfig.defaults(dir)));
        assertFalse(PointCloud.readIfXyz(dir.resolve("z.png"), DataConfig.defaults(dir)) != null);
    }

    @Test
    void intrinsicsResizeKeepsPixelCentres() {
        CameraIntrinsics k = new CameraIntrinsics(1000, 1000, 971.5, 599.5, 1944, 1200).resizedTo(972, 600);
        assertEquals(500, k.fx(), 1e-12);
        assertEquals(485.5, k.cx(), 1e-12); // (971.5 + 0.5) / 2 - 0.5
        assertEquals(299.5, k.cy(), 1e-12);
    }

    /**
     * The joint fit of a data set reads each cloud once (the DA3METRIC focal of train, eval and sweep was
     * read four times: shape, cloud, fit, residuals), shows its progress, and its one-pass residuals are
     * those of the definition (class comment of IntrinsicsFit), computed here from the fitted camera.
     */
    @Test
    void theDataSetsCameraReadsEachCloudOnceWithTheResidualsOfTheDefinition(@TempDir Path dir) throws Exception {
        Files.createDirectories(dir.resolve("images"));
        Files.createDirectories(dir.resolve("depth"));
        List<PointCloud> clouds = List.of(rendered(0.05, 11), rendered(0.2, 12), rendered(0.0, 13));
        List<Path> files = new ArrayList<>();
        for (int k = 0; k < clouds.size(); k++) {
            Path f = dir.resolve("depth").resolve("p" + k + "_rawDepth.npy");
            clouds.get(k).writeNpy(f);
            files.add(f);
            Files.write(dir.resolve("images").resolve("p" + k + "_color.png"), new byte[] {1});
        }
        DataConfig cfg = DataConfig.defaults(dir);
        List<Path> read = new ArrayList<>();
        ByteArrayOutputStream bar = new ByteArrayOutputStream();
        IntrinsicsFit fit = IntrinsicsFit.joint(files, f -> {
            read.add(f);
            return PointCloud.read(f, cfg);
        }, new PrintStream(bar, true));
        assertEquals(files, read, "each file read once, in order");
        assertTrue(bar.toString().contains("intrinsics") && bar.toString().contains("3/3"), bar.toString());
        CameraIntrinsics k = fit.intrinsics();
        assertEquals(TRUE.fx(), k.fx(), 0.005 * TRUE.fx());
        double px = 0;
        double mm = 0;
        long n = 0;
        for (PointCloud c : clouds) {
            float[] p = c.xyz();
            for (int v = 0; v < H; v++) {
                for (int u = 0; u < W; u++) {
                    int i = 3 * (v * W + u);
                    if (!Float.isFinite(p[i]) || !Float.isFinite(p[i + 1]) || !DepthMap.measured(p[i + 2])) {
                        continue;
                    }
                    double z = p[i + 2];
                    double du = k.fx() * p[i] / z + k.cx() - u;
                    double dv = k.fy() * p[i + 1] / z + k.cy() - v;
                    double dx = p[i] - (u - k.cx()) * z / k.fx();
                    double dy = p[i + 1] - (v - k.cy()) * z / k.fy();
                    px += du * du + dv * dv;
                    mm += dx * dx + dy * dy;
                    n++;
                }
            }
        }
        assertEquals(n, fit.pixels());
        assertEquals(Math.sqrt(px / n), fit.rmsPixels(), 1e-6 * Math.sqrt(px / n) + 1e-9);
        assertEquals(Math.sqrt(mm / n), fit.rmsMm(), 1e-6 * Math.sqrt(mm / n) + 1e-9);
        // the data set's owner: the same camera from the pairs of data.root
        CameraIntrinsics ofData = IntrinsicsFit.ofData(cfg, "test", null);
        assertEquals(k.fx(), ofData.fx(), 1e-9 * k.fx());
        assertEquals(k.cy(), ofData.cy(), 1e-9);
    }
}
