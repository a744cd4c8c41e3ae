package com.loratool.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.loratool.config.DataConfig;
import com.loratool.io.Npy;
import java.nio.file.Path;
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
}
