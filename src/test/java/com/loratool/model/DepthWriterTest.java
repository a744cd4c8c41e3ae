package com.loratool.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.loratool.io.Npy;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.opencv.core.CvType;
import org.opencv.core.Mat;
import org.opencv.imgcodecs.Imgcodecs;

class DepthWriterTest {
    @TempDir
    Path tmp;

    @Test
    void metricDepthBecomesMillimetresAndThe16BitPngClampsAt65535() throws Exception {
        // metres → mm: 0.0004 m rounds to 0 mm, 1.2345 m to 1235 (1234.5 rounds half up),
        // 65.535 m is the largest 16-bit value, 80 m (an outdoor model's max_depth) clamps to it
        float[] metres = {0.0004f, 1.2345f, 65.535f, 80f, -1f, 2.5f};
        DepthWriter w = DepthWriter.of(ModelConfig.preset("vits-metric-outdoor"));
        assertEquals(List.of("d.npy", "d_mm.png", "d.png"), w.fileNames("d"));
        w.write(tmp, "d", metres, 2, 3);
        float[] mm = Npy.read(tmp.resolve("d.npy")).data();
        assertArrayEquals(new float[] {0.4f, 1234.5f, 65535f, 80000f, -1000f, 2500f}, mm, 0.01f);
        DepthPredictor.loadOpenCv();
        Mat png = Imgcodecs.imread(tmp.resolve("d_mm.png").toString(), Imgcodecs.IMREAD_UNCHANGED);
        assertEquals(CvType.CV_16UC1, png.type());
        short[] px = new short[6];
        png.get(0, 0, px);
        png.release();
        int[] got = new int[6];
        for (int i = 0; i < 6; i++) {
            got[i] = Short.toUnsignedInt(px[i]);
        }
        assertArrayEquals(new int[] {0, 1235, 65535, 65535, 0, 2500}, got);
        assertTrue(Files.size(tmp.resolve("d.png")) > 0);
    }

    @Test
    void relativeOutputIsWrittenAsIs() {
        float[] d = {0.1f, 0.2f, 0.3f, 0.4f};
        DepthWriter w = DepthWriter.of(ModelConfig.preset("vits"));
        assertEquals(List.of("r.npy", "r.png"), w.fileNames("r"));
        w.write(tmp, "r", d, 2, 2);
        assertArrayEquals(d, Npy.read(tmp.resolve("r.npy")).data());
        assertTrue(Files.notExists(tmp.resolve("r_mm.png")));
    }
}
