package com.loratool.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.loratool.config.DataConfig;
import com.loratool.io.Npy;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.opencv.core.CvType;
import org.opencv.core.Mat;
import org.opencv.imgcodecs.Imgcodecs;

class DatasetTest {
    @TempDir
    Path dir;

    @BeforeAll
    static void cv() {
        Cv.load();
    }

    /** n pairs of 28x42 images, depth = 1000 + 10*x (mm), a NaN block in each. */
    private void makeData(int n) {
        for (int k = 0; k < n; k++) {
            int h = 28;
            int w = 42;
            byte[] bgr = new byte[h * w * 3];
            float[] xyz = new float[h * w * 3];
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    int i = y * w + x;
                    bgr[3 * i] = (byte) (5 * x);
                    bgr[3 * i + 1] = (byte) (7 * y);
                    bgr[3 * i + 2] = (byte) (10 * k);
                    boolean hole = x >= 5 && x < 9 && y >= 3 && y < 6;
                    xyz[3 * i + 2] = hole ? Float.NaN : 1000 + 10 * x + k;
                }
            }
            Mat m = new Mat(h, w, CvType.CV_8UC3);
            m.put(0, 0, bgr);
            String ts = String.format("t%02d", k);
            try {
                Files.createDirectories(dir.resolve("images"));
            } catch (IOException e) {
                throw new RuntimeException(e);
            }
            Imgcodecs.imwrite(dir.resolve("images/" + ts + "_Zivid_acquisition_color.png").toString(), m);
            Npy.write(mkdirs(dir.resolve("depth/" + ts + "_Zivid_acquisition_rawDepth.npy")), new long[] {h, w, 3}, xyz);
        }
    }

    private static Path mkdirs(Path f) {
        try {
            Files.createDirectories(f.getParent());
        } catch (IOException e) {
            throw new RuntimeException(e);
        }
        return f;
    }

    @Test
    void preparedSampleHasNormalisedChwImageFilledDepthAndMask() {
        makeData(1);
        Dataset ds = Dataset.open(DataConfig.defaults(dir).with("size", List.of(28, 42)).with(Map.of("val_fraction", 0, "max_train_images", 0, "seed", 1)));
        Sample s = ds.train().get(0);
        assertEquals(28, s.h());
        assertEquals(42, s.w());
        // pixel (y=2, x=3): RGB = (0, 14, 15) / 255, normalised per channel, CHW
        int i = 2 * 42 + 3;
        int plane = 28 * 42;
        assertEquals((0f / 255 - 0.485f) / 0.229f, s.image()[i], 1e-5);
        assertEquals((14f / 255 - 0.456f) / 0.224f, s.image()[plane + i], 1e-5);
        assertEquals((15f / 255 - 0.406f) / 0.225f, s.image()[2 * plane + i], 1e-5);
        // hole at x 5..8, y 3..5: filled with the nearest measured column (x=4 or x=9)
        assertTrue(!s.mask()[4 * 42 + 5] && s.mask()[4 * 42 + 4]);
        assertEquals(1040f, s.depth()[4 * 42 + 5], 1e-3); // (y=4, x=5): nearest measured is (4, 4), 1000 + 10*4
        assertEquals(1090f, s.depth()[4 * 42 + 8], 1e-3); // (y=4, x=8): nearest is (4, 9)
    }

    @Test
    void resizedDepthAndMaskStayAlignedWithTheImage() {
        makeData(1);
        // 42 -> 14 wide (factor 3), 28 -> 14 high (factor 2): output pixel x covers source 3x..3x+2,
        // centre 3x+1. Cubic on the blue ramp 5*x gives 5*(3x+1) exactly; depth 1000 + 10*x must
        // come from the same centre column.
        Sample s = Dataset.open(DataConfig.defaults(dir).with("size", List.of(14, 14)).with(Map.of("val_fraction", 0, "max_train_images", 0, "seed", 1))).train().get(0);
        int plane = 14 * 14;
        for (int x = 1; x < 13; x++) {
            int i = 8 * 14 + x;
            float blue = (s.image()[2 * plane + i] * 0.225f + 0.406f) * 255;
            assertEquals(5 * (3 * x + 1), blue, 1e-2, "image column " + x);
            assertEquals(1000 + 10 * (3 * x + 1), s.depth()[i], 1e-3, "depth column " + x);
        }
        // the hole (source x 5..8, y 3..5) shows in the mask at output (y=2, x=2): source (5, 7)
        assertTrue(!s.mask()[2 * 14 + 2] && s.mask()[2 * 14 + 1] && s.mask()[2 * 14 + 3]);
    }

    @Test
    void splitIsDeterministicAndWritten() throws Exception {
        makeData(10);
        DataConfig cfg = DataConfig.defaults(dir).with("size", List.of(28, 42));
        Split a = Dataset.open(cfg).split();
        Split b = Dataset.open(cfg).split();
        assertEquals(a, b);
        assertEquals(8, a.train().size());
        assertEquals(2, a.val().size());
        Set<String> all = new HashSet<>();
        a.train().forEach(p -> all.add(p.stem()));
        a.val().forEach(p -> all.add(p.stem()));
        assertEquals(10, all.size(), "train and val are disjoint and cover everything");
        List<List<String>> vals = new ArrayList<>();
        for (long seed = 0; seed < 6; seed++) {
            vals.add(Split.of(Dataset.open(cfg).pairing().pairs(), 0.2, 0, seed).val().stream().map(Pair::stem).toList());
        }
        assertTrue(new HashSet<>(vals).size() > 1, "different seeds give different splits");
        Split capped = Dataset.open(cfg.with(Map.of("val_fraction", 0.2, "max_train_images", 3, "seed", 0))).split();
        assertEquals(3, capped.train().size());
        assertEquals(a.val(), capped.val());

        Path f = Dataset.open(cfg).writeSplit(dir.resolve("run"));
        JsonNode j = new ObjectMapper().readTree(f.toFile());
        assertEquals(8, j.get("train").size());
        assertEquals(a.val().get(0).stem(), j.get("val").get(0).get("stem").asText());
    }

    @Test
    void secondEpochDecodesNothingAndDiskCacheIsReused() {
        makeData(4);
        DataConfig cfg = DataConfig.defaults(dir).with("size", List.of(28, 42)).with(Map.of("val_fraction", 0.25, "max_train_images", 0, "seed", 0))
                .with("cache", new DataConfig.Cache(true, dir.resolve("cache").toString()));
        Dataset ds = Dataset.open(cfg);
        ds.trainEpoch(0);
        ds.val();
        assertEquals(4, ds.decodeCount());
        List<Sample> e1 = ds.trainEpoch(1);
        ds.val();
        assertEquals(4, ds.decodeCount(), "a second epoch decodes nothing");
        assertEquals(3, e1.size());

        Dataset again = Dataset.open(cfg); // new process-like instance: disk cache hits
        List<Sample> t = again.train();
        assertEquals(0, again.decodeCount());
        assertArrayEquals(ds.train().get(0).depth(), t.get(0).depth());
        assertArrayEquals(ds.train().get(0).image(), t.get(0).image());

        Dataset other = Dataset.open(cfg.with("size", List.of(14, 28))); // other settings: cache miss
        other.train();
        assertEquals(3, other.decodeCount());
    }

    @Test
    void augmentationMovesImageDepthAndMaskTogether() {
        int h = 28;
        int w = 42;
        int plane = h * w;
        float[] img = new float[3 * plane];
        float[] dep = new float[plane];
        boolean[] mask = new boolean[plane];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int i = y * w + x;
                float ramp = 100 * x + y; // same smooth function in image and depth; encodes (x, y)
                img[i] = ramp;
                img[plane + i] = ramp;
                img[2 * plane + i] = ramp;
                dep[i] = ramp;
                mask[i] = x < 10;
            }
        }
        Sample s = new Sample("s", img, dep, mask, h, w);
        Sample f = Augmenter.flip(s);
        for (int i = 0; i < plane; i++) {
            assertEquals(f.depth()[i], f.image()[i]);
        }
        assertEquals(dep[5], f.depth()[w - 1 - 5]);
        assertTrue(f.mask()[w - 1] && !f.mask()[0]);

        Sample r = Augmenter.rotate(s, 7.0);
        int checked = 0;
        for (int y = 4; y < h - 4; y++) {
            for (int x = 4; x < w - 4; x++) {
                int i = y * w + x;
                // cubic reproduces the linear ramp exactly; nearest is within one pixel step (<= 100+1)
                assertEquals(r.image()[i], r.depth()[i], 101.5, "pixel " + x + "," + y);
                checked++;
            }
        }
        assertTrue(checked > 500);
        assertNotEquals(s.depth()[5 * w + 5], r.depth()[5 * w + 5]);
        // the mask rotates with the depth (same nearest source pixel): measured <=> source x < 10
        int measured = 0;
        for (int y = 2; y < h - 2; y++) {
            for (int x = 2; x < w - 2; x++) {
                int i = y * w + x;
                assertEquals((int) (r.depth()[i] / 100) < 10, r.mask()[i], "mask follows depth at " + x + "," + y);
                measured += r.mask()[i] ? 1 : 0;
            }
        }
        assertTrue(measured > 100);

        Sample j = Augmenter.jitter(s, 1.2, 0.9, 0.8);
        assertArrayEquals(s.depth(), j.depth());
        assertArrayEquals(s.mask(), j.mask());
        assertNotEquals(s.image()[0], j.image()[0]);
    }

    @Test
    void augmentedEpochsAreDeterministic() {
        makeData(3);
        DataConfig cfg = DataConfig.defaults(dir).with("size", List.of(28, 42)).with(Map.of("val_fraction", 0, "max_train_images", 0, "seed", 3))
                .with("augment", new DataConfig.Augment(true, 5.0, 0.1));
        List<Sample> a = Dataset.open(cfg).trainEpoch(2);
        List<Sample> b = Dataset.open(cfg).trainEpoch(2);
        for (int k = 0; k < a.size(); k++) {
            assertEquals(a.get(k).stem(), b.get(k).stem());
            assertArrayEquals(a.get(k).image(), b.get(k).image());
            assertArrayEquals(a.get(k).depth(), b.get(k).depth());
        }
        Dataset ds = Dataset.open(cfg);
        Sample cached = ds.train().get(0);
        float[] before = cached.image().clone();
        ds.trainEpoch(0);
        assertArrayEquals(before, ds.train().get(0).image(), "augmentation never modifies the cache");
    }
}
