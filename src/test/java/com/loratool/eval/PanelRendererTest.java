package com.loratool.eval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.loratool.data.Cv;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.opencv.core.CvType;
import org.opencv.core.Mat;
import org.opencv.core.Scalar;
import org.opencv.imgcodecs.Imgcodecs;

class PanelRendererTest {
    static final int W = 70;
    static final int H = 42;

    @BeforeAll
    static void opencv() {
        Cv.load();
    }

    /** Truth: depth grows left to right (1000..2000 mm); a 10 x 10 hole at (5..14, 5..14). */
    private static float[] truth(boolean[] measured) {
        float[] z = new float[W * H];
        for (int y = 0; y < H; y++) {
            for (int x = 0; x < W; x++) {
                int i = y * W + x;
                boolean hole = x >= 5 && x < 15 && y >= 5 && y < 15;
                z[i] = hole ? 0 : 1000 + 1000f * x / (W - 1);
                measured[i] = !hole;
            }
        }
        return z;
    }

    private static int[] px(Mat m, int x, int y) {
        byte[] b = new byte[3];
        m.get(y, x, b);
        return new int[] {b[0] & 255, b[1] & 255, b[2] & 255};
    }

    @Test
    void fourPanelsOfTheRightSizeWithGreyHoles(@TempDir Path dir) throws Exception {
        boolean[] measured = new boolean[W * H];
        float[] z = truth(measured);
        double[] lora = new double[W * H];
        double[] orig = new double[W * H];
        for (int i = 0; i < lora.length; i++) {
            lora[i] = 1000 + 1000.0 * (i % W) / (W - 1); // right everywhere
            orig[i] = 3000 - lora[i];                    // reversed
        }
        Mat image = new Mat(H, W, CvType.CV_8UC3, new Scalar(10, 200, 30));
        Mat pic = PanelRenderer.render(image, z, measured, lora, orig, "LoRA", false);
        assertEquals(4 * W + PanelRenderer.BAR_WIDTH, pic.cols());
        assertEquals(PanelRenderer.TITLE_HEIGHT + H, pic.rows());
        int top = PanelRenderer.TITLE_HEIGHT;
        // panel 1 is the image
        assertArrayEquals(new int[] {10, 200, 30}, px(pic, 30, top + 20));
        // panel 2: a hole in the truth is neutral grey, a measured pixel is not
        assertArrayEquals(new int[] {128, 128, 128}, px(pic, W + 9, top + 9));
        assertFalse(Arrays.equals(new int[] {128, 128, 128}, px(pic, W + 40, top + 30)));
        // panel 3 (right prediction) has the truth's colours, also where the truth is missing
        assertArrayEquals(px(pic, W + 40, top + 30), px(pic, 2 * W + 40, top + 30));
        assertFalse(Arrays.equals(new int[] {128, 128, 128}, px(pic, 2 * W + 9, top + 9)));
        // panel 4 (reversed) shows the far colour where the truth is near, and vice versa
        assertArrayEquals(px(pic, W + W - 1, top + 30), px(pic, 3 * W, top + 30));
        assertArrayEquals(px(pic, W, top + 30), px(pic, 4 * W - 1, top + 30));
        // the colour bar carries the same map: top = far (truth's right edge), bottom = near
        int bx = 4 * W + 8 + 8;
        assertArrayEquals(px(pic, 2 * W - 1, top + 30), px(pic, bx, top));
        assertArrayEquals(px(pic, W, top + 30), px(pic, bx, top + H - 1));

        Path png = dir.resolve("a.png");
        ReportFiles.writePng(png, pic);
        assertTrue(Files.size(png) > 0);
        Mat back = Imgcodecs.imread(png.toString());
        assertEquals(pic.cols(), back.cols());
        assertEquals(pic.rows(), back.rows());
    }

    @Test
    void errorMapsAddASecondRowAndLargeImagesShrink() {
        int[] ps = PanelRenderer.panelSize(960, 480);
        assertArrayEquals(new int[] {480, 240}, ps);
        assertArrayEquals(new int[] {4 * 480 + PanelRenderer.BAR_WIDTH, 2 * (PanelRenderer.TITLE_HEIGHT + 240)},
                PanelRenderer.pictureSize(960, 480, true));
        boolean[] measured = new boolean[W * H];
        float[] z = truth(measured);
        double[] pred = new double[W * H];
        for (int i = 0; i < pred.length; i++) {
            pred[i] = z[i] == 0 ? 1500 : z[i];
        }
        Mat image = new Mat(H, W, CvType.CV_8UC1, new Scalar(77));
        Mat pic = PanelRenderer.render(image, z, measured, pred, pred, "LoRA", true);
        assertEquals(2 * (PanelRenderer.TITLE_HEIGHT + H), pic.rows());
        int y1 = 2 * PanelRenderer.TITLE_HEIGHT + H;
        assertArrayEquals(new int[] {77, 77, 77}, px(pic, 3, PanelRenderer.TITLE_HEIGHT + 3));
        assertArrayEquals(new int[] {128, 128, 128}, px(pic, 2 * W + 9, y1 + 9)); // hole: no error shown
        assertArrayEquals(px(pic, 2 * W + 40, y1 + 30), px(pic, 3 * W + 40, y1 + 30)); // same errors, same colour
    }
}
