package com.loratool.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.loratool.LoraException;
import com.loratool.config.DataConfig;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.opencv.imgproc.Imgproc;

class AugmenterCropTest {
    /** 28 x 42 sample: depth = column index + 1, image channel c = c * 100 + row, all measured but (0, 21). */
    private static Sample sample() {
        int h = 28;
        int w = 42;
        float[] img = new float[3 * h * w];
        float[] dep = new float[h * w];
        boolean[] mask = new boolean[h * w];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                dep[y * w + x] = x + 1;
                mask[y * w + x] = !(y == 0 && x == 21);
                for (int c = 0; c < 3; c++) {
                    img[c * h * w + y * w + x] = c * 100 + y;
                }
            }
        }
        return new Sample("s", img, dep, mask, h, w);
    }

    @Test
    void rightHalfDoubledIsNearestNeighbourForDepthAndMask() {
        Sample s = sample();
        // the box x 21..41, all rows: each output column j reads source column 21 + floor(j / 2)
        Sample c = Augmenter.resizedCrop(s, 21, 0, 21, 28, Imgproc.INTER_CUBIC);
        assertEquals(28, c.h());
        assertEquals(42, c.w());
        for (int j = 0; j < 42; j++) {
            assertEquals(21 + j / 2 + 1, c.depth()[5 * 42 + j], "column " + j);
        }
        // the unmeasured source pixel (0, 21) covers output columns 0 and 1 of row 0 only
        assertFalse(c.mask()[0]);
        assertFalse(c.mask()[1]);
        assertTrue(c.mask()[2]);
        assertTrue(c.mask()[42]);
        // the image keeps its rows (constant along x): cubic of a constant row is that constant
        assertEquals(100 + 7, c.image()[28 * 42 + 7 * 42 + 30], 1e-3);
    }

    @Test
    void boxHasTheAreaAndAspectAskedForAndTheSampleKeepsItsSize() {
        DataConfig.Augment keep = new DataConfig.Augment(false, 0.0, 0.0, 0.25, null, null);
        Random rnd = new Random(1);
        for (int i = 0; i < 200; i++) {
            int[] b = Augmenter.cropBox(84, 140, keep, rnd);
            double area = (double) b[2] * b[3] / (84 * 140);
            assertTrue(area > 0.22 && area <= 1.0, "area " + area);
            assertEquals(140.0 / 84, (double) b[2] / b[3], 0.06, "aspect kept");
            assertTrue(b[0] >= 0 && b[0] + b[2] <= 140 && b[1] >= 0 && b[1] + b[3] <= 84);
        }
        DataConfig.Augment ratio = new DataConfig.Augment(false, 0.0, 0.0, 0.5, List.of(0.75, 1.333), DataConfig.Augment.CropInterpolation.area);
        boolean other = false;
        for (int i = 0; i < 200; i++) {
            int[] b = Augmenter.cropBox(84, 140, ratio, rnd);
            double f = ((double) b[2] / b[3]) / (140.0 / 84);
            assertTrue(f > 0.7 && f < 1.45, "aspect factor " + f);
            other |= Math.abs(f - 1) > 0.1;
        }
        assertTrue(other, "a ratio range gives other aspects");
    }

    @Test
    void seededAndOffByDefault() {
        DataConfig.Augment a = new DataConfig.Augment(false, 0.0, 0.0, 0.5, null, null);
        Sample s = sample();
        Sample x = Augmenter.apply(s, a, new Random(3));
        Sample y = Augmenter.apply(s, a, new Random(3));
        assertArrayEquals(x.depth(), y.depth());
        assertArrayEquals(x.image(), y.image());
        assertNotEquals(0, Arrays.compare(x.depth(), s.depth()), "a crop of scale 0.5 changes the sample");
        assertFalse(new DataConfig.Augment(true, 0.0, 0.0).crops());
        assertTrue(a.crops());
    }

    @Test
    void badCropSettingsAreRefused() {
        assertThrows(LoraException.class, () -> new DataConfig.Augment(false, 0.0, 0.0, 0.0, null, null));
        assertThrows(LoraException.class, () -> new DataConfig.Augment(false, 0.0, 0.0, 1.5, null, null));
        assertThrows(LoraException.class, () -> new DataConfig.Augment(false, 0.0, 0.0, 0.5, List.of(2.0, 1.0), null));
        // a closed set: an unknown interpolation is no value of the enum (loading a config names file:line)
        assertThrows(IllegalArgumentException.class, () -> DataConfig.Augment.off().with("crop_interpolation", "linear"));
    }
}
