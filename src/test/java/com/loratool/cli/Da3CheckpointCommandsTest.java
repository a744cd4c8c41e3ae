package com.loratool.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.JsonNode;
import com.loratool.api.DepthEstimator;
import com.loratool.api.Export;
import com.loratool.api.Prediction;
import com.loratool.cli.TrainCommandTest.Run;
import com.loratool.io.Checksums;
import com.loratool.io.HostTensor;
import com.loratool.io.Json;
import com.loratool.io.Npy;
import com.loratool.io.NpyArray;
import com.loratool.io.Safetensors;
import com.loratool.lora.AdapterCheckpoint;
import com.loratool.lora.AdapterSet;
import com.loratool.lora.LoraInjector;
import com.loratool.lora.LoraModel;
import com.loratool.lora.LoraPair;
import com.loratool.lora.LoraScaling;
import com.loratool.lora.export.AdaptedWeights;
import com.loratool.model.Da3Checkpoint;
import com.loratool.model.DepthAnythingV2;
import com.loratool.model.Fixtures;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Depth Anything 3 LoRA checkpoints in every command that takes {@code --checkpoint} (issue 26): a
 * short run of {@code configs/smoke-da3mono-pretrained.yaml} (LoRA r 8 on the attn.qkv of the 4 blocks
 * of {@code fixtures/da3-tiny-mono-pretrained}) exported merged (the official Hugging Face folder,
 * reloaded strictly), as PEFT (official module names) and imported back, as ONNX (depth and sky
 * certified), and predicted from, with --align-to and --point-cloud on its relative depth.
 */
class Da3CheckpointCommandsTest {
    static final Path BASE = Fixtures.shared("da3-tiny-mono-pretrained");
    static final Path METRIC = Fixtures.shared("da3-tiny-metric");
    static final Path IMAGE = Fixtures.shared("da3-tiny-mono").resolve("image.png");

    @TempDir
    static Path runs;

    /** runs/<run>/best of a 2-epoch run on the pretrained DA3 mono fixture. */
    static Path best;

    @TempDir
    Path tmp;

    @BeforeAll
    static void train() {
        Run r = TrainCommandTest.run("train", "--config", "configs/smoke-da3mono-pretrained.yaml", "--quiet",
                "--set", "train.output_dir=" + runs, "--set", "train.epochs=2");
        assertEquals(0, r.code(), r.err());
        best = runs.resolve("smoke-da3mono-pretrained").resolve("best");
        assertTrue(Files.isRegularFile(best.resolve(AdapterCheckpoint.WEIGHTS)), "no checkpoint in " + best);
    }

    private static Run ok(String... args) {
        Run r = TrainCommandTest.run(args);
        assertEquals(0, r.code(), r.err());
        return r;
    }

    private Path predict(String name, String... model) {
        Path out = tmp.resolve(name);
        List<String> a = new ArrayList<>(List.of("predict", "--input", IMAGE.toString(), "--output", out.toString(),
                "--device", "cpu"));
        a.addAll(Arrays.asList(model));
        if (!a.contains("--onnx")) {
            a.addAll(List.of("--process-res", "154")); // the fixture's process_res (a fixed graph has its own)
        }
        ok(a.toArray(String[]::new));
        return out;
    }

    private static float[] depth(Path predictOut) {
        return Npy.read(predictOut.resolve(stem() + ".npy")).data();
    }

    private static String stem() {
        String n = IMAGE.getFileName().toString();
        return n.substring(0, n.lastIndexOf('.'));
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

    /** The fixture photograph as the official preprocessing gives it (da3-tiny-mono's input_tensor.npy). */
    private static NDArray input(NDManager m) {
        NpyArray x = Npy.read(IMAGE.resolveSibling("input_tensor.npy"));
        return m.create(x.data(), new Shape(1, 3, 98, 154)); // stored as 1 x 1 x 3 x 98 x 154 (views x images)
    }

    /**
     * The merged folder {@code merged} reloaded strictly, against the base {@code base} with the checkpoint's
     * {@code layers} adapters as separate branches, on the fixture photograph: depth relative L2, sky max
     * abs difference, the sky's largest value, how much the adapters change the depth (relative L2), and the
     * sky's relative L2 (NaN where the sky is zero everywhere).
     */
    private static double[] reloadedVsBranches(Path base, Path ck, Path merged, int layers) {
        Da3Checkpoint back = Da3Checkpoint.read(merged); // strict: every key, every shape
        Da3Checkpoint b = Da3Checkpoint.read(base);
        assertEquals(b.config(), back.config());
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray x = input(m);
            DepthAnythingV2.DepthAndSky got = back.instantiate(m).forwardWithSky(x);
            DepthAnythingV2 model = b.instantiate(m);
            float[] plain = model.forwardWithSky(x).depth().toFloatArray();
            try (LoraModel lm = LoraInjector.apply(model, AdapterCheckpoint.load(ck), m)) {
                assertEquals(layers, lm.layers().size());
                DepthAnythingV2.DepthAndSky want = model.forwardWithSky(x);
                float[] wantDepth = want.depth().toFloatArray();
                float[] wantSky = want.sky().toFloatArray();
                return new double[] {Fixtures.relL2(got.depth().toFloatArray(), wantDepth),
                    maxAbs(got.sky().toFloatArray(), wantSky), maxAbs(wantSky, new float[wantSky.length]),
                    Fixtures.relL2(wantDepth, plain), Fixtures.relL2(got.sky().toFloatArray(), wantSky)};
            }
        }
    }

    /**
     * lora export --format merged: model.safetensors with exactly the base's official key names and
     * config.json with its model_name; it loads strictly and computes what the checkpoint computes with
     * its adapters as separate branches (W x + s B A x), to 1e-6 relative L2 on depth and sky.
     */
    @Test
    void mergedExportIsTheOfficialFolderAndReloadsToTheCheckpointWithAdaptersAsBranches() throws Exception {
        Path merged = tmp.resolve("merged");
        Run r = ok("export", "--checkpoint", best.toString(), "--format", "merged", "--output", merged.toString());
        assertTrue(r.out().contains("Depth Anything 3 da3mono") && r.out().contains("4 merged modules"), r.out());
        assertEquals(Safetensors.read(BASE.resolve("model.safetensors")).keySet(),
                Safetensors.read(merged.resolve("model.safetensors")).keySet());
        assertEquals("da3mono-tiny", Json.readFinite(merged.resolve("config.json")).get("model_name").asText());
        double[] p = reloadedVsBranches(BASE, best, merged, 4);
        System.out.printf("DA3 checkpoint merged export reloaded vs adapters as branches: depth rel L2 %.3g, "
                + "sky max abs %.3g (the fixture's sky head gives %.3g at most: its training scenes have no sky; "
                + "the adapters change depth by %.3g)%n", p[0], p[1], p[2], p[3]);
        assertTrue(p[3] > 1e-5, "the trained adapters must change the output: " + p[3]);
        assertTrue(p[0] <= 1e-6, "depth rel L2 " + p[0]);
        assertTrue(p[1] <= 1e-6, "sky max abs " + p[1]);
        // lora predict --weights on the folder: what --checkpoint predicts
        float[] fromCheckpoint = depth(predict("ck", "--checkpoint", best.toString()));
        float[] fromMerged = depth(predict("merged-pred", "--weights", merged.toString()));
        assertTrue(maxRel(fromMerged, fromCheckpoint) <= 1e-6, "max rel " + maxRel(fromMerged, fromCheckpoint));
    }

    /**
     * lora predict --checkpoint: the same files as --weights (npy, colour PNG, sky PNG), the adapters
     * applied (not the base's depth), --no-sky-fill honoured; the Java API gives the same numbers.
     */
    @Test
    void predictFromTheCheckpointWritesTheDa3OutputsWithTheAdapters() {
        Path ck = predict("ck", "--checkpoint", best.toString());
        for (String f : List.of(".npy", ".png", "_sky.png")) {
            assertTrue(Files.isRegularFile(ck.resolve(stem() + f)), stem() + f);
        }
        float[] adapted = depth(ck);
        float[] base = depth(predict("base", "--weights", BASE.toString()));
        assertTrue(maxRel(adapted, base) > 1e-4, "the checkpoint predicts the base's depth");
        try (DepthEstimator e = DepthEstimator.builder().checkpoint(best).processRes(154).device("cpu").build()) {
            assertTrue(e.isDa3() && !e.isMetric());
            assertTrue(e.model().adapters().isPresent());
            Prediction p = e.predict(IMAGE);
            assertEquals(Prediction.RELATIVE_DEPTH, p.unit());
            assertArrayEquals(adapted, p.values());
            assertTrue(p.sky() != null);
        }
        float[] unfilled = depth(predict("nofill", "--checkpoint", best.toString(), "--no-sky-fill"));
        assertEquals(adapted.length, unfilled.length);
    }

    /**
     * --align-to on a Depth Anything 3 mono checkpoint aligns depth, not disparity: a sensor depth that
     * is exactly 2000 p + 500 mm of the prediction p comes back as itself (scale 2000, shift 500), and
     * the point cloud back-projects it through the intrinsics (X = (u - cx) Z / fx).
     */
    @Test
    void alignToAndPointCloudFitTheRelativeDepthAsDepth() throws Exception {
        float[] p = depth(predict("ck", "--checkpoint", best.toString()));
        NpyArray shape = Npy.read(tmp.resolve("ck").resolve(stem() + ".npy"));
        int h = (int) shape.shape()[0];
        int w = (int) shape.shape()[1];
        float[] z = new float[p.length];
        for (int i = 0; i < p.length; i++) {
            z[i] = 2000f * p[i] + 500f;
        }
        Path sensor = tmp.resolve("sensor.npy");
        Npy.write(sensor, new long[] {h, w}, z);
        double fx = 150;
        double cx = 76;
        Path out = predict("aligned", "--checkpoint", best.toString(), "--align-to", sensor.toString(),
                "--point-cloud", "--intrinsics", fx + "," + fx + "," + cx + ",48");
        float[] aligned = Npy.read(out.resolve(stem() + "_depth.npy")).data();
        assertTrue(maxRel(aligned, z) <= 1e-4, "aligned vs sensor max rel " + maxRel(aligned, z));
        JsonNode fit = Json.readFinite(out.resolve(stem() + "_align.json"));
        assertEquals("depth", fit.get("aligned").asText());
        assertEquals(2000, fit.get("scale").asDouble(), 2000 * 1e-4);
        assertEquals(500, fit.get("shift").asDouble(), 0.5);
        NpyArray xyz = Npy.read(out.resolve(stem() + "_xyz.npy"));
        assertArrayEquals(new long[] {h, w, 3}, xyz.shape());
        int u = w - 3;
        int v = 5;
        int i = v * w + u;
        assertEquals(z[i], xyz.data()[3 * i + 2], 1e-3 * z[i]);
        assertEquals((u - cx) * z[i] / fx, xyz.data()[3 * i], 1e-3 * z[i]);
        assertTrue(Files.isRegularFile(out.resolve(stem() + ".ply")));
        // the disparity's robust fit is V2's: refused for a depth, nothing written
        Path refused = tmp.resolve("robust");
        Run r = TrainCommandTest.run("predict", "--input", IMAGE.toString(), "--output", refused.toString(),
                "--checkpoint", best.toString(), "--process-res", "154", "--align-to", sensor.toString(),
                "--align", "robust");
        assertTrue(r.code() != 0 && r.err().contains("--align robust: the Huber fit is in disparity"), r.err());
        assertFalse(Files.exists(refused));
    }

    /**
     * lora export --format peft: the official module names; lora import brings it back onto the DA3
     * base weights as a checkpoint whose merged weights are the run's (1e-6).
     */
    @Test
    void peftExportNamesTheOfficialModulesAndImportsBackOntoTheDa3Base() throws Exception {
        Path peft = tmp.resolve("peft");
        ok("export", "--checkpoint", best.toString(), "--format", "peft", "--output", peft.toString());
        Map<String, HostTensor> t = Safetensors.read(peft.resolve("adapter_model.safetensors"));
        for (int b = 0; b < 4; b++) {
            String qkv = "base_model.model.model.backbone.pretrained.blocks." + b + ".attn.qkv";
            assertTrue(t.containsKey(qkv + ".lora_A.weight") && t.containsKey(qkv + ".lora_B.weight"),
                    qkv + " in " + t.keySet());
        }
        JsonNode cfg = Json.readFinite(peft.resolve("adapter_config.json"));
        cfg.get("target_modules").forEach(m -> assertTrue(m.asText().matches(
                "model\\.backbone\\.pretrained\\.blocks\\.\\d+\\.attn\\.qkv"), m.asText()));

        Path imported = tmp.resolve("imported");
        ok("import", "--peft", peft.toString(), "--weights", BASE.resolve("model.safetensors").toString(), "--output",
                imported.toString());
        Map<String, HostTensor> sd = Da3Checkpoint.read(BASE).stateDict();
        LinkedHashMap<String, HostTensor> want = AdaptedWeights.merged(sd, AdapterCheckpoint.load(best), 1);
        LinkedHashMap<String, HostTensor> got = AdaptedWeights.merged(sd, AdapterCheckpoint.load(imported), 1);
        for (String k : want.keySet()) {
            assertTrue(Fixtures.relL2(got.get(k).data(), want.get(k).data()) <= 1e-6, k);
        }
        // and it predicts as the run's checkpoint
        float[] a = depth(predict("imp", "--checkpoint", imported.toString()));
        float[] b = depth(predict("ck", "--checkpoint", best.toString()));
        assertTrue(maxRel(a, b) <= 1e-5, "max rel " + maxRel(a, b));
    }

    /** lora export --format onnx from the checkpoint: certified on depth and sky; predict --onnx gives its depth. */
    @Test
    void onnxExportOfTheCheckpointIsCertifiedOnDepthAndSky() throws Exception {
        Path onnx = tmp.resolve("ck.onnx");
        Run r = ok("export", "--checkpoint", best.toString(), "--format", "onnx", "--input-size", "98x154",
                "--output", onnx.toString());
        assertTrue(r.out().contains("on both outputs, depth and sky") && r.out().contains("adapters merged"), r.out());
        System.out.println("DA3 checkpoint ONNX export: " + r.out().strip());
        float[] fromOnnx = depth(predict("onnx-pred", "--onnx", onnx.toString()));
        float[] fromCk = depth(predict("ck", "--checkpoint", best.toString()));
        assertTrue(maxRel(fromOnnx, fromCk) <= 1e-4, "max rel " + maxRel(fromOnnx, fromCk));
    }

    /**
     * A Depth Anything 3 metric checkpoint (hand-made, on da3-tiny-metric) predicts millimetres from
     * --focal as its merged export does; a V2 checkpoint given a DA3 architecture stays refused.
     */
    @Test
    void aMetricCheckpointPredictsMillimetresAndMismatchesAreRefused() throws Exception {
        Random r = new Random(4);
        LinkedHashMap<String, LoraPair> m = new LinkedHashMap<>();
        m.put("model.backbone.pretrained.blocks.1.attn.qkv", new LoraPair(ExportImportCommandTest.rand(r, 4, 48),
                ExportImportCommandTest.rand(r, 144, 4)));
        Path weights = METRIC.resolve("model.safetensors");
        Path ck = tmp.resolve("metric-ck");
        AdapterCheckpoint.save(ck, new AdapterSet(m), new LoraScaling(4, 8, false), weights,
                Checksums.sha256(weights), null);
        Path merged = tmp.resolve("metric-merged");
        assertTrue(Export.merged(new com.loratool.checkpoint.ModelSource.Checkpoint(ck, null, null), merged, 1)
                .summary().contains("da3metric"));
        Path a = predict("metric-ck-pred", "--checkpoint", ck.toString(), "--focal", "140");
        Path b = predict("metric-merged-pred", "--weights", merged.toString(), "--focal", "140");
        assertTrue(Files.isRegularFile(a.resolve(stem() + "_mm.png")));
        // the merged folder against the adapters as branches, where the sky head does answer (da3-tiny-metric)
        double[] p = reloadedVsBranches(METRIC, ck, merged, 1);
        System.out.printf("DA3 metric checkpoint merged export reloaded vs adapters as branches: depth rel L2 %.3g, "
                + "sky rel L2 %.3g (sky up to %.3g; the adapters change depth by %.3g)%n", p[0], p[4], p[2], p[3]);
        assertTrue(p[2] > 0.1 && p[3] > 1e-3, "the sky and the adapters must count: " + Arrays.toString(p));
        // depth to 1e-6; the sky head amplifies float32's op-order difference between W x + s B (A x) and
        // (W + s B A) x (measured 2.5e-6; the same bound as lora.Da3ExportTest's branches, 1e-5)
        assertTrue(p[0] <= 1e-6 && p[4] <= 1e-5, Arrays.toString(p));
        assertTrue(maxRel(depth(a), depth(b)) <= 1e-6, "max rel " + maxRel(depth(a), depth(b)));
        // without the focal: refused, nothing written
        Path none = tmp.resolve("nofocal");
        Run n = TrainCommandTest.run("predict", "--input", IMAGE.toString(), "--output", none.toString(),
                "--checkpoint", ck.toString());
        assertTrue(n.code() != 0 && n.err().contains("needs the focal length"), n.err());
        assertFalse(Files.exists(none));
        // a V2 checkpoint given as Depth Anything 3
        Path v2 = ExportImportCommandTest.checkpoint(tmp, ExportImportCommandTest.WEIGHTS,
                Checksums.sha256(ExportImportCommandTest.WEIGHTS));
        Path out = tmp.resolve("v2-as-da3");
        Run e = TrainCommandTest.run("export", "--checkpoint", v2.toString(), "--model-config", "da3mono-large",
                "--format", "merged", "--output", out.toString());
        assertTrue(e.code() != 0 && e.err().contains("is a Depth Anything V2 checkpoint, not a Depth Anything 3 one"),
                e.err());
        assertEquals(1, e.err().strip().lines().count(), e.err());
        assertFalse(Files.exists(out));
    }
}
