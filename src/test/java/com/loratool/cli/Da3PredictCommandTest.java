package com.loratool.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.loratool.cli.TrainCommandTest.Run;
import com.loratool.api.DepthEstimator;
import com.loratool.api.Prediction;
import com.loratool.io.HostTensor;
import com.loratool.io.Npy;
import com.loratool.io.NpyArray;
import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import com.loratool.model.Da3Checkpoint;
import com.loratool.model.Da3Predictor;
import com.loratool.model.DepthPredictor;
import com.loratool.model.Fixtures;
import com.loratool.model.weights.PthWriter;
import com.loratool.model.weights.StateDicts;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.opencv.core.Mat;
import org.opencv.imgcodecs.Imgcodecs;

/**
 * {@code lora predict} and {@code lora info} on Depth Anything 3 (issue 26) with the tiny official
 * fixtures: the official {@code inference()} at the processed size, the resize to the image, the
 * sky mask, DA3METRIC's millimetres from the focal, and the one-line refusals that write nothing.
 */
class Da3PredictCommandTest {
    static final Path MONO = Fixtures.shared("da3-tiny-mono");
    static final Path METRIC = Fixtures.shared("da3-tiny-metric");
    /** The fixtures' focal for expected_metric_depth.npy (their README), pixels at 154 x 98. */
    static final double FOCAL = 140;

    @TempDir
    Path tmp;

    /** The shared CLI runner ({@link TrainCommandTest#run}). */
    private static Run run(String... args) {
        return TrainCommandTest.run(args);
    }

    private Run predict(Path weights, Path out, String... more) {
        List<String> a = new ArrayList<>(List.of("predict", "--weights", weights.toString(), "--input",
                MONO.resolve("image.png").toString(), "--output", out.toString(), "--device", "cpu"));
        a.addAll(Arrays.asList(more));
        return run(a.toArray(String[]::new));
    }

    private Path ok(Path weights, String... more) {
        Path out = tmp.resolve("out");
        Run r = predict(weights, out, more);
        assertEquals(0, r.code(), r.err());
        return out;
    }

    private static float[] expected(Path dir, String name, long... shape) {
        NpyArray a = Npy.read(dir.resolve(name));
        assertArrayEquals(shape, a.shape());
        return a.data();
    }

    private static float maxAbs(float[] a, float[] b) {
        assertEquals(b.length, a.length);
        float m = 0;
        for (int i = 0; i < a.length; i++) {
            m = Math.max(m, Math.abs(a[i] - b[i]));
        }
        return m;
    }

    @Test
    void monoAtTheProcessedSizeIsTheOfficialInferenceAndWritesTheSkyMask() {
        Path out = ok(MONO, "--process-res", "154");
        NpyArray depth = Npy.read(out.resolve("image.npy"));
        assertArrayEquals(new long[] {98, 154}, depth.shape());
        float[] want = expected(MONO, "expected_inference.npy", 1, 98, 154);
        assertTrue(maxAbs(depth.data(), want) <= 1e-4, "max abs " + maxAbs(depth.data(), want));
        assertTrue(Files.isRegularFile(out.resolve("image.png")));
        // the sky mask: 255 exactly where the official sky output is >= 0.3 (20 % of the pixels)
        float[] sky = expected(MONO, "expected_sky.npy", 1, 1, 98, 154);
        DepthPredictor.loadOpenCv();
        Mat m = Imgcodecs.imread(out.resolve("image_sky.png").toString(), Imgcodecs.IMREAD_UNCHANGED);
        assertEquals(98, m.rows());
        assertEquals(154, m.cols());
        assertEquals(1, m.channels());
        byte[] px = new byte[98 * 154];
        m.get(0, 0, px);
        m.release();
        int skyPixels = 0;
        for (int i = 0; i < px.length; i++) {
            boolean s = sky[i] >= 0.3f;
            skyPixels += s ? 1 : 0;
            assertEquals(s ? 255 : 0, px[i] & 0xff, "pixel " + i);
        }
        assertTrue(skyPixels > 10, "the fixture has sky: " + skyPixels);
    }

    @Test
    void noSkyFillGivesTheHeadOutput() {
        Path out = ok(MONO, "--process-res", "154", "--no-sky-fill");
        float[] depth = Npy.read(out.resolve("image.npy")).data();
        float[] head = expected(MONO, "expected_head.npy", 1, 1, 98, 154);
        float[] filled = expected(MONO, "expected_inference.npy", 1, 98, 154);
        assertTrue(maxAbs(depth, head) <= 1e-4, "max abs " + maxAbs(depth, head));
        assertTrue(maxAbs(depth, filled) > 1e-2, "the sky fill changes the sky pixels");
        assertTrue(Files.isRegularFile(out.resolve("image_sky.png")));
    }

    /** process_res 112: the official 70 x 112 result, resized bilinear (align_corners) to the image's 98 x 154. */
    @Test
    void theDepthIsWrittenAtTheImageSizeResizedBilinearFromTheProcessedSize() {
        Path out = ok(MONO, "--process-res", "112");
        NpyArray depth = Npy.read(out.resolve("image.npy"));
        assertArrayEquals(new long[] {98, 154}, depth.shape());
        float[] small = expected(MONO, "expected_inference_res112.npy", 1, 70, 112);
        float[] want = bilinearAlignCorners(small, 70, 112, 98, 154);
        assertTrue(maxAbs(depth.data(), want) <= 1e-4, "max abs " + maxAbs(depth.data(), want));
        DepthPredictor.loadOpenCv();
        Mat m = Imgcodecs.imread(out.resolve("image_sky.png").toString(), Imgcodecs.IMREAD_UNCHANGED);
        assertEquals(98, m.rows());
        assertEquals(154, m.cols());
        m.release();
        // the default process_res (504) enlarges the image, then the depth comes back to 98 x 154
        Path dflt = tmp.resolve("default");
        Run r = predict(MONO, dflt);
        assertEquals(0, r.code(), r.err());
        assertArrayEquals(new long[] {98, 154}, Npy.read(dflt.resolve("image.npy")).shape());
    }

    static float[] bilinearAlignCorners(float[] in, int h, int w, int oh, int ow) {
        float[] out = new float[oh * ow];
        for (int y = 0; y < oh; y++) {
            double sy = oh == 1 ? 0 : y * (double) (h - 1) / (oh - 1);
            int y0 = (int) Math.floor(sy);
            int y1 = Math.min(y0 + 1, h - 1);
            double fy = sy - y0;
            for (int x = 0; x < ow; x++) {
                double sx = ow == 1 ? 0 : x * (double) (w - 1) / (ow - 1);
                int x0 = (int) Math.floor(sx);
                int x1 = Math.min(x0 + 1, w - 1);
                double fx = sx - x0;
                double top = in[y0 * w + x0] * (1 - fx) + in[y0 * w + x1] * fx;
                double bot = in[y1 * w + x0] * (1 - fx) + in[y1 * w + x1] * fx;
                out[y * ow + x] = (float) (top * (1 - fy) + bot * fy);
            }
        }
        return out;
    }

    @Test
    void metricWithFocalGivesMillimetres() {
        Path out = ok(METRIC, "--process-res", "154", "--focal", Double.toString(FOCAL));
        float[] mm = Npy.read(out.resolve("image.npy")).data();
        float[] output = expected(METRIC, "expected_inference.npy", 1, 98, 154);
        float[] metres = expected(METRIC, "expected_metric_depth.npy", 1, 98, 154);
        float[] want = new float[output.length];
        for (int i = 0; i < want.length; i++) {
            want[i] = (float) (1000 * FOCAL * output[i] / 300);
            assertEquals(1000 * metres[i], want[i], 1e-3 * want[i], "the fixture's metres");
        }
        float worst = 0;
        for (int i = 0; i < want.length; i++) {
            worst = Math.max(worst, Math.abs(mm[i] - want[i]) / want[i]);
        }
        assertTrue(worst <= 1e-4, "relative error " + worst);
        assertTrue(Files.isRegularFile(out.resolve("image_mm.png")));
        assertTrue(Files.isRegularFile(out.resolve("image_sky.png")));
    }

    /** --intrinsics K.json on a grid twice the image's: fx, fy rescaled to the image, then to the processed size. */
    @Test
    void metricWithIntrinsicsGivesTheSameMillimetresAsItsFocal() throws Exception {
        Path k = tmp.resolve("K.json");
        Files.writeString(k, "{\"fx\": 280, \"fy\": 280, \"cx\": 153.5, \"cy\": 97.5, \"width\": 308, \"height\": 196}");
        Path out = ok(METRIC, "--process-res", "154", "--intrinsics", k.toString());
        Path byFocal = tmp.resolve("focal");
        Run r = predict(METRIC, byFocal, "--process-res", "154", "--focal", Double.toString(FOCAL));
        assertEquals(0, r.code(), r.err());
        float[] a = Npy.read(out.resolve("image.npy")).data();
        float[] b = Npy.read(byFocal.resolve("image.npy")).data();
        assertTrue(maxAbs(a, b) <= 1e-3f, "max abs mm " + maxAbs(a, b));
    }

    /** --focal is in pixels of the original image: at process_res 308 (the image enlarged twice), 2 x 140 px. */
    @Test
    void theFocalIsScaledFromTheOriginalImageToTheProcessedResolution() {
        Path enlarged = tmp.resolve("enlarged");
        Run r = predict(METRIC, enlarged, "--process-res", "308", "--focal", Double.toString(FOCAL));
        assertEquals(0, r.code(), r.err());
        float[] c = Npy.read(enlarged.resolve("image.npy")).data();
        DepthPredictor.loadOpenCv();
        Mat bgr = Imgcodecs.imread(MONO.resolve("image.png").toString(), Imgcodecs.IMREAD_COLOR);
        try (NDManager m = NDManager.newBaseManager(Device.cpu())) {
            Da3Predictor.Result out308 = new Da3Predictor(Da3Checkpoint.read(METRIC).instantiate(m), 308, true)
                    .predict(bgr);
            assertEquals(196, out308.processedHeight());
            float worst = 0;
            for (int i = 0; i < c.length; i++) {
                float want = (float) (1000 * 2 * FOCAL * out308.depth()[i] / 300);
                worst = Math.max(worst, Math.abs(c[i] - want) / want);
            }
            assertTrue(worst <= 1e-4, "relative error " + worst);
        } finally {
            bgr.release();
        }
    }

    /** An older .pth with the module. prefix, the tiny architecture given as --model-config: the same depth. */
    @Test
    void aModulePrefixedPthPredictsTheSame() {
        LinkedHashMap<String, HostTensor> prefixed = new LinkedHashMap<>();
        StateDicts.readDa3(MONO).forEach((k, v) -> prefixed.put("module." + k, v));
        Path pth = tmp.resolve("da3.pth");
        PthWriter.write(pth, prefixed);
        Path out = ok(pth, "--process-res", "154", "--model-config", MONO.resolve("model.yaml").toString());
        float[] depth = Npy.read(out.resolve("image.npy")).data();
        float[] want = expected(MONO, "expected_inference.npy", 1, 98, 154);
        assertTrue(maxAbs(depth, want) <= 1e-4, "max abs " + maxAbs(depth, want));
    }

    /** DA3METRIC in mm takes V2 metric's geometry options: a point cloud from its depth, --align-to a sensor. */
    @Test
    void metricTakesThePointCloudAndAlignToOptions() {
        Path out = ok(METRIC, "--process-res", "154", "--focal", Double.toString(FOCAL), "--point-cloud",
                "--intrinsics", "140,140,76.5,48.5");
        NpyArray z = Npy.read(out.resolve("image.npy"));
        NpyArray xyz = Npy.read(out.resolve("image_xyz.npy"));
        assertArrayEquals(new long[] {98, 154, 3}, xyz.shape());
        for (int i = 0; i < 98 * 154; i += 97) {
            assertEquals(z.data()[i], xyz.data()[3 * i + 2], 1e-3 * z.data()[i], "Z of pixel " + i);
        }
        assertTrue(Files.isRegularFile(out.resolve("image.ply")));
        // the sensor is the prediction itself: the aligned depth is the prediction
        Path aligned = tmp.resolve("aligned");
        Run r = predict(METRIC, aligned, "--process-res", "154", "--focal", Double.toString(FOCAL), "--align-to",
                out.resolve("image.npy").toString());
        assertEquals(0, r.code(), r.err());
        float[] d = Npy.read(aligned.resolve("image_depth.npy")).data();
        assertTrue(maxAbs(d, z.data()) <= 1e-2f * 1000, "max abs mm " + maxAbs(d, z.data()));
    }

    @Test
    void trainRefusesDa3WeightsUnderAV2ArchitectureInOneLine() {
        // configs/smoke.yaml names the V2 tiny architecture (model.config): DA3 weights do not fit it
        Run r = run("train", "--config", "configs/smoke.yaml", "--set", "model.weights=" + MONO,
                "--set", "train.output_dir=" + tmp.resolve("runs"));
        assertNotEquals(0, r.code());
        assertTrue(r.err().contains("Depth Anything 3 weights given with a Depth Anything V2 architecture"), r.err());
        assertFalse(Files.exists(tmp.resolve("runs")), "nothing written");
        assertFalse(r.err().strip().contains("\n"), r.err());
    }

    /** The Java API: the same metres and sky mask as the command. */
    @Test
    void theJavaApiPredictsDa3MetricInMetresWithTheSkyMask() {
        float[] output = expected(METRIC, "expected_inference.npy", 1, 98, 154);
        try (DepthEstimator model = DepthEstimator.builder().weights(METRIC).processRes(154).focal(FOCAL)
                .device("cpu").build()) {
            assertTrue(model.isDa3() && model.isMetric());
            Prediction p = model.predict(MONO.resolve("image.png"));
            assertEquals(Prediction.METRES, p.unit());
            assertEquals(98, p.height());
            assertEquals(154, p.width());
            for (int i = 0; i < output.length; i++) {
                assertEquals(FOCAL * output[i] / 300, p.values()[i], 1e-4 * FOCAL * output[i] / 300, "pixel " + i);
            }
            assertEquals(98 * 154, p.sky().length);
        }
        try (DepthEstimator mono = DepthEstimator.builder().weights(MONO).processRes(154).device("cpu").build()) {
            Prediction p = mono.predict(MONO.resolve("image.png"));
            assertEquals(Prediction.RELATIVE_DEPTH, p.unit());
            assertFalse(p.metric());
        }
    }

    private void refused(Path weights, String expected, String... more) {
        Path out = tmp.resolve("refused");
        Run r = predict(weights, out, more);
        assertNotEquals(0, r.code());
        String line = r.err().strip();
        assertFalse(line.contains("\n"), "one line: " + line);
        assertTrue(line.contains(expected), line);
        assertFalse(Files.exists(out), "nothing written");
    }

    @Test
    void metricWithoutAFocalIsRefused() {
        refused(METRIC, "needs the focal length", "--process-res", "154");
    }

    @Test
    void aFocalThatIsZeroNegativeOrNotFiniteIsRefused() {
        refused(METRIC, "--focal 0.0: must be a positive finite number", "--focal", "0");
        refused(METRIC, "--focal -1.0: must be a positive finite number", "--focal", "-1");
        refused(METRIC, "--focal NaN: must be a positive finite number", "--focal", "NaN");
        refused(METRIC, "--focal Infinity: must be a positive finite number", "--focal", "Infinity");
    }

    @Test
    void aV2CheckpointGivenAsDa3IsRefused() {
        refused(Fixtures.shared("da2-tiny").resolve("weights.pth"),
                "is a Depth Anything V2 checkpoint, not a Depth Anything 3 one", "--model-config", "da3mono-large");
    }

    @Test
    void aConfigJsonNamingTheMultiViewSeriesIsRefused() throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("giant"));
        Files.copy(MONO.resolve("model.safetensors"), dir.resolve("model.safetensors"));
        Files.writeString(dir.resolve("config.json"), "{\"model_name\": \"da3-giant\"}");
        refused(dir, "model_name 'da3-giant' is of the multi-view Depth Anything 3 series");
    }

    @Test
    void v2OptionsAndDa3OptionsAreNotMixed() {
        refused(MONO, "--input-size is for Depth Anything V2", "--input-size", "98");
        // a relative depth has no millimetres without a sensor to align to
        refused(MONO, "need --align-to DEPTH (a relative model predicts depth up to scale and shift",
                "--point-cloud", "--intrinsics", "100,100,76,48");
        refused(MONO, "--focal is for Depth Anything 3 metric models", "--focal", "140");
        Path v2 = Fixtures.shared("da2-tiny");
        refused(v2.resolve("weights.pth"), "are for Depth Anything 3 models", "--process-res", "154",
                "--model-config", v2.resolve("model.yaml").toString());
    }

    @Test
    void infoListsTheDa3LayersLoraCanTarget() {
        Run r = run("info", "--weights", MONO.toString());
        assertEquals(0, r.code(), r.err());
        String s = r.out();
        assertTrue(s.contains("model.backbone.pretrained.blocks.0.attn.qkv"), s);
        assertTrue(s.matches("(?s).*model\\.backbone\\.pretrained\\.blocks\\.\\*\\.attn\\.qkv\\s+x4\\s+Linear 48->144.*"), s);
        assertTrue(s.contains("model.head.scratch.sky_output_conv2.0"), s);
        assertTrue(s.contains("Depth Anything 3 mono"), s);
        assertTrue(s.contains("290,042 total"), s);
    }
}
