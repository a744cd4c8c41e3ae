package com.loratool.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.loratool.cli.TrainCommandTest.Run;
import com.loratool.LoraException;
import com.loratool.api.DepthEstimator;
import com.loratool.api.Export;
import com.loratool.io.HostTensor;
import com.loratool.lora.export.AdaptedWeights;
import com.loratool.model.Da3Checkpoint;
import com.loratool.api.Prediction;
import com.loratool.deploy.OnnxDeployment;
import com.loratool.io.Checksums;
import com.loratool.io.Npy;
import com.loratool.io.NpyArray;
import com.loratool.lora.AdapterCheckpoint;
import com.loratool.lora.AdapterSet;
import com.loratool.lora.LoraPair;
import com.loratool.lora.LoraScaling;
import com.loratool.model.DepthPredictor;
import com.loratool.model.Fixtures;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.opencv.core.Mat;
import org.opencv.imgcodecs.Imgcodecs;

/**
 * {@code lora export --format onnx} of Depth Anything 3 base weights (certified on depth and sky),
 * {@code lora predict --onnx} on the graph (the same outputs as {@code predict --weights}: the steps
 * of model.Da3Predictor with ONNX Runtime as the forward step), and the one-line refusals that write
 * nothing (merged without adapters, a DA3 checkpoint's merge into one file, options the graph cannot honour).
 */
class Da3ExportCommandTest {
    static final Path MONO = Fixtures.shared("da3-tiny-mono");
    static final Path METRIC = Fixtures.shared("da3-tiny-metric");
    static final Path IMAGE = MONO.resolve("image.png");

    @TempDir
    Path tmp;

    /** The shared CLI runner ({@link TrainCommandTest#run}). */
    private static Run run(String... args) {
        return TrainCommandTest.run(args);
    }

    private Path export(Path weights, String name, String... more) {
        Path out = tmp.resolve(name);
        List<String> a = new ArrayList<>(List.of("export", "--weights", weights.toString(), "--format", "onnx",
                "--output", out.toString()));
        a.addAll(Arrays.asList(more));
        Run r = run(a.toArray(String[]::new));
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("Depth Anything 3") && r.out().contains("on both outputs, depth and sky"), r.out());
        assertTrue(Files.isRegularFile(out));
        assertTrue(Files.isRegularFile(OnnxDeployment.certificatePath(out)));
        return out;
    }

    private Path predict(String name, String modelFlag, Path model, String... more) {
        Path out = tmp.resolve(name);
        List<String> a = new ArrayList<>(List.of("predict", modelFlag, model.toString(), "--input", IMAGE.toString(),
                "--output", out.toString()));
        if (modelFlag.equals("--weights")) {
            a.addAll(List.of("--device", "cpu"));
        }
        a.addAll(Arrays.asList(more));
        Run r = run(a.toArray(String[]::new));
        assertEquals(0, r.code(), r.err());
        return out;
    }

    private static double maxRel(float[] got, float[] want) {
        assertEquals(want.length, got.length);
        double m = 0;
        for (int i = 0; i < got.length; i++) {
            m = Math.max(m, Math.abs(got[i] - want[i]) / Math.max(1e-6, Math.abs(want[i])));
        }
        return m;
    }

    private static double maxAbs(float[] got, float[] want) {
        assertEquals(want.length, got.length);
        double m = 0;
        for (int i = 0; i < got.length; i++) {
            m = Math.max(m, Math.abs(got[i] - want[i]));
        }
        return m;
    }

    private static byte[] png(Path file) {
        DepthPredictor.loadOpenCv();
        Mat m = Imgcodecs.imread(file.toString(), Imgcodecs.IMREAD_UNCHANGED);
        byte[] px = new byte[(int) (m.total() * m.elemSize())];
        m.get(0, 0, px);
        m.release();
        return px;
    }

    /** The same files, the depth within {@code tol} (absolute), the sky mask identical. */
    private static void sameOutputs(Path onnx, Path torch, double tol) {
        NpyArray a = Npy.read(onnx.resolve("image.npy"));
        NpyArray b = Npy.read(torch.resolve("image.npy"));
        assertArrayEquals(b.shape(), a.shape());
        assertArrayEquals(new long[] {98, 154}, a.shape());
        assertTrue(maxAbs(a.data(), b.data()) <= tol, "max abs " + maxAbs(a.data(), b.data()));
        System.out.printf("predict --onnx vs --weights (%s): depth max abs %.3g%n", onnx.getFileName(),
                maxAbs(a.data(), b.data()));
        assertArrayEquals(png(torch.resolve("image_sky.png")), png(onnx.resolve("image_sky.png")));
        try {
            assertEquals(fileNames(torch), fileNames(onnx));
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    private static List<String> fileNames(Path dir) throws Exception {
        try (var s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void monoFixedGraphPredictsAsTheWeights() {
        Path graph = export(MONO, "mono.onnx", "--input-size", "98x154");
        Path onnx = predict("onnx", "--onnx", graph);
        Path torch = predict("torch", "--weights", MONO, "--process-res", "154");
        sameOutputs(onnx, torch, 1e-4);
        // at the processed size the official inference() itself
        float[] want = Npy.read(MONO.resolve("expected_inference.npy")).data();
        assertTrue(maxAbs(Npy.read(onnx.resolve("image.npy")).data(), want) <= 1e-4);
        // --no-sky-fill: the head's depth, as the weights give it
        sameOutputs(predict("onnx-nofill", "--onnx", graph, "--no-sky-fill"),
                predict("torch-nofill", "--weights", MONO, "--process-res", "154", "--no-sky-fill"), 1e-4);
    }

    @Test
    void monoDynamicGraphTakesProcessResAndResizesToTheImage() {
        Path graph = export(MONO, "mono-dyn.onnx", "--input-size", "56x84", "--dynamic");
        // process_res 112: 70 x 112 through the network, resized to the image's 98 x 154
        sameOutputs(predict("onnx", "--onnx", graph, "--process-res", "112"),
                predict("torch", "--weights", MONO, "--process-res", "112"), 1e-4);
    }

    @Test
    void metricDynamicGraphGivesTheSameMillimetresFromTheFocal() {
        Path graph = export(METRIC, "metric.onnx", "--input-size", "98x154", "--dynamic");
        Path onnx = predict("onnx", "--onnx", graph, "--process-res", "154", "--focal", "140");
        Path torch = predict("torch", "--weights", METRIC, "--process-res", "154", "--focal", "140");
        float[] a = Npy.read(onnx.resolve("image.npy")).data();
        float[] b = Npy.read(torch.resolve("image.npy")).data();
        assertTrue(maxRel(a, b) <= 1e-4, "max relative " + maxRel(a, b));
        System.out.printf("predict --onnx vs --weights (metric, --focal 140): mm max relative %.3g%n", maxRel(a, b));
        assertTrue(Files.isRegularFile(onnx.resolve("image_mm.png")));
        assertArrayEquals(png(torch.resolve("image_sky.png")), png(onnx.resolve("image_sky.png")));
        // the fixture's official metres (focal 140 at 154 x 98) in mm
        float[] metres = Npy.read(METRIC.resolve("expected_metric_depth.npy")).data();
        float[] mm = new float[metres.length];
        for (int i = 0; i < mm.length; i++) {
            mm[i] = metres[i] * 1000;
        }
        assertTrue(maxRel(a, mm) <= 1e-4, "max relative " + maxRel(a, mm));
    }

    @Test
    void theJavaApiRunsTheGraphAsItsWeights() throws Exception {
        Path graph = export(METRIC, "metric-fixed.onnx", "--input-size", "98x154");
        DepthEstimator.Da3Options o = new DepthEstimator.Da3Options(null, true, 140.0, null);
        try (DepthEstimator onnx = DepthEstimator.fromOnnx(graph, null, 1, o);
             DepthEstimator torch = DepthEstimator.builder().weights(METRIC).device("cpu").processRes(154).focal(140.0)
                     .build()) {
            assertTrue(onnx.isDa3() && onnx.isMetric());
            Prediction a = onnx.predict(IMAGE);
            Prediction b = torch.predict(IMAGE);
            assertEquals(Prediction.METRES, a.unit());
            assertTrue(maxRel(a.values(), b.values()) <= 1e-4, "max relative " + maxRel(a.values(), b.values()));
            assertArrayEquals(b.sky(), a.sky());
        }
    }

    /** One line on stderr containing {@code expected}, exit non-zero, and nothing at {@code written}. */
    private static void refused(Path written, String expected, String... args) {
        Run r = run(args);
        assertTrue(r.code() != 0, r.out());
        String err = r.err().strip();
        assertTrue(err.contains(expected), err);
        assertFalse(err.contains("\n"), err);
        assertFalse(Files.exists(written), written + " written");
    }

    @Test
    void refusalsWriteNothing() throws Exception {
        // merged and peft need adapters: base weights alone have none
        refused(tmp.resolve("merged"), "give --checkpoint DIR", "export", "--weights", MONO.toString(), "--format",
                "merged", "--output", tmp.resolve("merged").toString());
        // a Depth Anything 3 checkpoint's merged weights are a Hugging Face folder, not one file
        Path ck = da3Checkpoint();
        refused(tmp.resolve("m.safetensors"), "merged weights are a Hugging Face folder", "export",
                "--checkpoint", ck.toString(), "--format", "merged", "--output", tmp.resolve("m.safetensors").toString());
        // predict --onnx: what the graph cannot honour
        Path metric = export(METRIC, "metric.onnx", "--input-size", "56x84", "--dynamic");
        Path mono = export(MONO, "mono.onnx", "--input-size", "98x154");
        Path pred = tmp.resolve("pred");
        String[] base = {"predict", "--input", IMAGE.toString(), "--output", pred.toString(), "--onnx"};
        refused(pred, "needs the focal length", concat(base, metric.toString()));
        refused(pred, "--focal 0.0: must be a positive finite number", concat(base, metric.toString(), "--focal", "0"));
        refused(pred, "is a fixed-size graph (98x154): --process-res 112 cannot change it",
                concat(base, mono.toString(), "--process-res", "112"));
        refused(pred, "--input-size is for Depth Anything V2", concat(base, mono.toString(), "--input-size", "98"));
        refused(pred, "--focal is for Depth Anything 3 metric models", concat(base, mono.toString(), "--focal", "140"));
        // a V2 graph refuses the Depth Anything 3 options
        Path v2 = tmp.resolve("v2.onnx");
        Run e = run("export", "--weights", ExportImportCommandTest.WEIGHTS.toString(), "--model-config",
                ExportImportCommandTest.FIXTURE.resolve("model.yaml").toString(), "--format", "onnx", "--input-size", "56",
                "--output", v2.toString());
        assertEquals(0, e.code(), e.err());
        refused(pred, "this is a Depth Anything V2 graph", concat(base, v2.toString(), "--no-sky-fill"));
    }

    /** A hand-made checkpoint on the da3-tiny-mono base (what lora train will write): r 4 on block 0's qkv. */
    private Path da3Checkpoint() {
        Random r = new Random(3);
        LinkedHashMap<String, LoraPair> m = new LinkedHashMap<>();
        m.put("model.backbone.pretrained.blocks.0.attn.qkv", new LoraPair(ExportImportCommandTest.rand(r, 4, 48),
                ExportImportCommandTest.rand(r, 144, 4)));
        Path weights = MONO.resolve("model.safetensors");
        Path ck = tmp.resolve("ck");
        AdapterCheckpoint.save(ck, new AdapterSet(m), new LoraScaling(4, 8, false), weights,
                Checksums.sha256(weights), null);
        return ck;
    }

    /** The merged path for Depth Anything 3 checkpoints, ready for them: the official Hugging Face layout. */
    @Test
    void mergedDa3WritesTheHuggingFaceFolderOfTheAdaptedWeights() throws Exception {
        AdapterCheckpoint ck = AdapterCheckpoint.load(da3Checkpoint());
        Da3Checkpoint base = Da3Checkpoint.read(MONO);
        Path out = tmp.resolve("merged");
        Export.Written w = Export.mergedDa3(MONO.resolve("model.safetensors"), base.config(), base.stateDict(), ck, out, 1);
        assertTrue(w.summary().contains("1 merged modules"), w.summary());
        assertEquals("{\"model_name\":\"da3mono-tiny\"}\n", Files.readString(out.resolve(Da3Checkpoint.CONFIG_JSON)));
        assertTrue(Files.isRegularFile(out.resolve(Da3Checkpoint.MODEL_YAML)));
        Da3Checkpoint back = Da3Checkpoint.read(out);
        assertEquals(base.config(), back.config());
        assertEquals(base.stateDict().keySet(), back.stateDict().keySet());
        LinkedHashMap<String, HostTensor> want = AdaptedWeights.merged(base.stateDict(), ck, 1);
        String qkv = "model.backbone.pretrained.blocks.0.attn.qkv.weight";
        assertFalse(Arrays.equals(base.stateDict().get(qkv).data(), want.get(qkv).data()));
        for (String k : want.keySet()) {
            assertArrayEquals(want.get(k).data(), back.stateDict().get(k).data(), k);
        }
        // a second export into the same folder is refused, nothing overwritten
        assertTrue(assertThrows(LoraException.class, () -> Export.mergedDa3(MONO.resolve("model.safetensors"),
                base.config(), base.stateDict(), ck, out, 1)).getMessage().contains("already holds"));
    }

    @Test
    void importOfAV2PeftAdapterOnDa3WeightsIsRefusedInOneLine() {
        Path out = tmp.resolve("imported");
        // a PEFT folder of a V2 checkpoint (Hugging Face module names) on DA3 weights, and back
        Path peft = tmp.resolve("peft");
        Path v2 = ExportImportCommandTest.checkpoint(tmp, ExportImportCommandTest.WEIGHTS,
                Checksums.sha256(ExportImportCommandTest.WEIGHTS));
        Export.peft(v2, peft);
        assertTrue(Files.isRegularFile(peft.resolve("adapter_config.json")));
        refused(out, "is an adapter of a Depth Anything V2 model, but --weights", "import", "--peft",
                peft.toString(), "--weights", MONO.resolve("model.safetensors").toString(), "--output", out.toString());
        Path da3Peft = tmp.resolve("da3-peft");
        Export.peft(da3Checkpoint(), da3Peft);
        refused(out, "is an adapter of a Depth Anything 3 model, but --weights", "import", "--peft",
                da3Peft.toString(), "--weights", ExportImportCommandTest.WEIGHTS.toString(), "--output", out.toString());
    }

    private static String[] concat(String[] a, String... b) {
        String[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
