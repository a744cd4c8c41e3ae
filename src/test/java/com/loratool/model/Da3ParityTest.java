package com.loratool.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.loratool.LoraException;
import com.loratool.io.HostTensor;
import com.loratool.io.Npy;
import com.loratool.io.NpyArray;
import com.loratool.model.weights.PthWriter;
import com.loratool.model.weights.StateDicts;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Depth Anything 3 monocular (DA3MONO) and metric (DA3METRIC) against fixtures/da3-tiny-mono and
 * da3-tiny-metric, made with the official code (see their READMEs): head depth, sky, the sky
 * post-processed depth ({@code DepthAnything3Net.forward}), {@code inference()} at the processed
 * size for both process_res, and metres with the README's focal.
 */
class Da3ParityTest {
    static final Path MONO = Fixtures.shared("da3-tiny-mono");
    static final Path METRIC = Fixtures.shared("da3-tiny-metric");
    static final double TOL = 1e-4;

    @TempDir
    Path tmp;

    /** The fixture's (1,1,3,H,W) input as (1,3,H,W); depth and sky (host) before post-processing. */
    private static float[][] run(DepthAnythingV2 model, Path input) {
        NpyArray x = Npy.read(input);
        long[] s = x.shape();
        try (NDManager step = model.manager().newSubManager()) {
            NDArray in = step.create(x.data(), new Shape(s[0] * s[1], s[2], s[3], s[4]));
            DepthAnythingV2.DepthAndSky o = model.forwardWithSky(in);
            assertArrayEquals(new long[] {s[0] * s[1], s[3], s[4]}, o.depth().getShape().getShape());
            return new float[][] {o.depth().toFloatArray(), o.sky().toFloatArray()};
        }
    }

    private static double err(float[] got, Path want) {
        return Fixtures.relL2(got, Npy.read(want).data());
    }

    /** Head, sky, post-processed depth and inference() of one fixture; returns the depth error. */
    private static double checkFixture(String label, DepthAnythingV2 model, Path dir) {
        float[][] o = run(model, dir.resolve("input_tensor.npy"));
        double head = err(o[0], dir.resolve("expected_head.npy"));
        double sky = err(o[1], dir.resolve("expected_sky.npy"));
        float[] filled = Da3Outputs.skyFill(o[0], o[1]);
        double depth = err(filled, dir.resolve("expected_depth.npy"));
        double inference = err(filled, dir.resolve("expected_inference.npy"));
        System.out.printf("%s: relative L2 head %.3g, sky %.3g, depth %.3g, inference %.3g%n", label, head, sky, depth,
                inference);
        assertTrue(head <= TOL, "head " + head);
        assertTrue(sky <= TOL, "sky " + sky);
        assertTrue(depth <= TOL, "depth " + depth);
        assertTrue(inference <= TOL, "inference " + inference);
        // the sky mask equals the reference's (no pixel within 1e-4 of the threshold there)
        boolean[] mine = Da3Outputs.skyMask(o[1]);
        float[] ref = Npy.read(dir.resolve("expected_sky.npy")).data();
        for (int i = 0; i < ref.length; i++) {
            assertEquals(ref[i] >= 0.3f, mine[i], "sky pixel " + i);
        }
        return depth;
    }

    @Test
    void monoFromHuggingFaceFolderMatchesOfficial() {
        Da3Checkpoint ck = Da3Checkpoint.read(MONO);
        assertEquals(ModelConfig.Family.DA3MONO, ck.config().family());
        assertEquals(ModelConfig.fromYaml(MONO.resolve("model.yaml")), ck.config());
        try (NDManager base = NDManager.newBaseManager()) {
            DepthAnythingV2 model = ck.instantiate(base);
            assertEquals(126, model.namedParameters().size());
            assertTrue(model.namedParameters().containsKey("model.head.scratch.sky_output_conv2.2.weight"));
            assertFalse(model.namedParameters().containsKey("model.head.scratch.refinenet4.resConfUnit1.conv1.weight"));
            assertFalse(model.namedParameters().containsKey("model.backbone.pretrained.mask_token"));
            checkFixture("da3-tiny-mono safetensors", model, MONO);
        }
    }

    @Test
    void pretrainedFixtureLoadsStrictlyAndSeesNoSky() {
        Da3Checkpoint ck = Da3Checkpoint.read(Fixtures.shared("da3-tiny-mono-pretrained"));
        assertEquals(ModelConfig.Family.DA3MONO, ck.config().family());
        try (NDManager base = NDManager.newBaseManager()) {
            float[][] o = run(ck.instantiate(base), MONO.resolve("input_tensor.npy"));
            for (float d : o[0]) {
                assertTrue(d > 0 && Float.isFinite(d), "depth " + d);
            }
        }
    }

    @Test
    void monoInferenceAtProcessRes112() {
        try (NDManager base = NDManager.newBaseManager()) {
            DepthAnythingV2 model = Da3Checkpoint.read(MONO.resolve("model.safetensors")).instantiate(base);
            float[][] o = run(model, MONO.resolve("input_tensor_res112.npy"));
            double e = err(Da3Outputs.skyFill(o[0], o[1]), MONO.resolve("expected_inference_res112.npy"));
            System.out.printf("da3-tiny-mono inference process_res 112 (70x112) relative L2 %.3g%n", e);
            assertTrue(e <= TOL, "res112 " + e);
        }
    }

    @Test
    void metricMatchesOfficialAndGivesMetres() {
        Da3Checkpoint ck = Da3Checkpoint.read(METRIC.resolve("model.safetensors"));
        assertEquals(ModelConfig.Family.DA3METRIC, ck.config().family());
        try (NDManager base = NDManager.newBaseManager()) {
            DepthAnythingV2 model = ck.instantiate(base);
            checkFixture("da3-tiny-metric safetensors", model, METRIC);
            float[][] o = run(model, METRIC.resolve("input_tensor.npy"));
            // README: fx = fy = 140 px at the processed size (= the image's), focal = (fx + fy) / 2
            float[] m = Da3Outputs.metres(Da3Outputs.skyFill(o[0], o[1]), Da3Outputs.focal(140, 140));
            double e = err(m, METRIC.resolve("expected_metric_depth.npy"));
            System.out.printf("da3-tiny-metric metres (focal 140 px) relative L2 %.3g%n", e);
            assertTrue(e <= TOL, "metres " + e);
        }
    }

    @Test
    void modulePrefixedPthLoadsTheSame() {
        LinkedHashMap<String, HostTensor> sd = StateDicts.readDa3(MONO.resolve("model.safetensors"));
        LinkedHashMap<String, HostTensor> prefixed = new LinkedHashMap<>();
        sd.forEach((k, v) -> prefixed.put("module." + k, v));
        Path pth = tmp.resolve("da3.pth");
        PthWriter.write(pth, prefixed);
        // no model.yaml beside it: the tiny architecture is given
        Da3Checkpoint ck = Da3Checkpoint.read(pth, ModelConfig.fromYaml(MONO.resolve("model.yaml")));
        assertEquals(sd.keySet(), ck.stateDict().keySet());
        try (NDManager base = NDManager.newBaseManager()) {
            checkFixture("da3-tiny-mono module.-prefixed .pth", ck.instantiate(base), MONO);
        }
        // DepthAnything3Net's own state dict (backbone.*, head.*) under module.
        LinkedHashMap<String, HostTensor> net = new LinkedHashMap<>();
        sd.forEach((k, v) -> net.put("module." + k.substring("model.".length()), v));
        Path pth2 = tmp.resolve("net.pth");
        PthWriter.write(pth2, net);
        assertEquals(sd.keySet(), StateDicts.readDa3(pth2).keySet());
    }

    /**
     * fixtures/da3-tiny-mono-fp16: da3-tiny-mono's weights rounded to float16 and stored as F16,
     * with the official outputs of those weights (upcast to float32, as torch loads an fp16 file).
     * The weights read are exactly the rounded fp32 ones; head, sky, post-processed depth and
     * inference() at both process_res agree to 1e-4 like the fp32 fixtures (against the fp32 reference they would differ by 2e-3 .. 6e-2:
     * fp16 rounding moves some pixels across the sky threshold).
     */
    @Test
    void fp16SafetensorsMatchesOfficialWithFp16Weights() throws Exception {
        Path fp16 = Fixtures.shared("da3-tiny-mono-fp16");
        byte[] head = Files.readAllBytes(fp16.resolve("model.safetensors"));
        assertTrue(new String(head, 8, 200, StandardCharsets.UTF_8).contains("\"dtype\":\"F16\""), "an F16 file");
        Da3Checkpoint ck = Da3Checkpoint.read(fp16);
        LinkedHashMap<String, HostTensor> fp32 = StateDicts.readDa3(MONO.resolve("model.safetensors"));
        assertEquals(fp32.keySet(), ck.stateDict().keySet());
        for (Map.Entry<String, HostTensor> e : fp32.entrySet()) {
            float[] a = e.getValue().data();
            float[] h = ck.stateDict().get(e.getKey()).data();
            for (int i = 0; i < a.length; i++) {
                assertEquals(halfToFloat(floatToHalf(a[i])), h[i], 0.0, e.getKey());
            }
        }
        try (NDManager base = NDManager.newBaseManager()) {
            DepthAnythingV2 model = ck.instantiate(base);
            checkFixture("da3-tiny-mono-fp16 (F16 safetensors)", model, fp16);
            float[][] o = run(model, fp16.resolve("input_tensor_res112.npy"));
            double e = err(Da3Outputs.skyFill(o[0], o[1]), fp16.resolve("expected_inference_res112.npy"));
            System.out.printf("da3-tiny-mono-fp16 inference process_res 112 (70x112) relative L2 %.3g%n", e);
            assertTrue(e <= TOL, "fp16 res112 " + e);
        }
    }

    @Test
    void wrongFamiliesAndUnsupportedModelsAreOneLineRefusals() throws Exception {
        // a V2 checkpoint given as DA3
        Path v2 = Fixtures.shared("da2-tiny").resolve("weights.pth");
        LoraException e = assertThrows(LoraException.class, () -> Da3Checkpoint.read(v2));
        assertTrue(e.getMessage().startsWith(v2.toString()) && e.getMessage().contains("Depth Anything V2"), e.getMessage());
        assertFalse(e.getMessage().contains("\n"));
        // a DA3 checkpoint given as V2 (what the commands read today)
        Path da3 = MONO.resolve("model.safetensors");
        e = assertThrows(LoraException.class, () -> StateDicts.read(da3));
        assertTrue(e.getMessage().startsWith(da3.toString()) && e.getMessage().contains("Depth Anything 3"), e.getMessage());
        // DA3 weights with a V2 architecture
        e = assertThrows(LoraException.class, () -> Da3Checkpoint.read(da3, ModelConfig.preset("vitl")));
        assertTrue(e.getMessage().startsWith(da3.toString()), e.getMessage());
        // config.json naming the multi-view series, a nested model, something else
        for (String name : new String[] {"da3-large", "da3nested-giant-large", "depth-anything-v2"}) {
            Path dir = Files.createDirectories(tmp.resolve(name));
            Files.copy(da3, dir.resolve("model.safetensors"));
            Path json = dir.resolve("config.json");
            Files.writeString(json, "{\"model_name\": \"" + name + "\"}", StandardCharsets.UTF_8);
            e = assertThrows(LoraException.class, () -> Da3Checkpoint.read(dir));
            assertTrue(e.getMessage().startsWith(json.toString()) && e.getMessage().contains(name), e.getMessage());
            assertFalse(e.getMessage().contains("\n"));
        }
        // a tiny model without its model.yaml: shapes are not da3mono-large's
        Path bare = Files.createDirectories(tmp.resolve("bare"));
        Files.copy(da3, bare.resolve("model.safetensors"));
        e = assertThrows(LoraException.class, () -> Da3Checkpoint.read(bare));
        assertTrue(e.getMessage().contains("not recognised"), e.getMessage());
        // mono weights, config.json says metric
        Path mixed = Files.createDirectories(tmp.resolve("mixed"));
        Files.copy(da3, mixed.resolve("model.safetensors"));
        Files.copy(MONO.resolve("model.yaml"), mixed.resolve("model.yaml"));
        Files.writeString(mixed.resolve("config.json"), "{\"model_name\": \"da3metric-large\"}");
        e = assertThrows(LoraException.class, () -> Da3Checkpoint.read(mixed));
        assertTrue(e.getMessage().contains("da3metric"), e.getMessage());
    }

    @Test
    void v2WeightsIntoADa3ModelAreRefusedByName() {
        try (NDManager base = NDManager.newBaseManager()) {
            DepthAnythingV2 model = new DepthAnythingV2(ModelConfig.fromYaml(MONO.resolve("model.yaml")), base);
            LinkedHashMap<String, HostTensor> v2 = StateDicts.read(Fixtures.shared("da2-tiny").resolve("weights.pth"));
            LoraException e = assertThrows(LoraException.class, () -> model.load(v2));
            assertTrue(e.getMessage().contains("V2 weights"), e.getMessage());
        }
    }

    // --- IEEE half by hand (the rounding numpy applied when the fixture was made) ---

    /** float32 → IEEE half, round to nearest even (normal and subnormal range; no NaN here). */
    static short floatToHalf(float f) {
        int bits = Float.floatToIntBits(f);
        int sign = (bits >>> 16) & 0x8000;
        float a = Math.abs(f);
        if (a >= 65520f) {
            return (short) (sign | 0x7c00);
        }
        if (a < 0x1p-14f) { // subnormal: multiples of 2^-24
            return (short) (sign | Math.round(Math.rint(a * 0x1p24f)));
        }
        int e = Math.getExponent(a);
        float m = a / (float) Math.scalb(1.0, e); // [1, 2)
        int mant = (int) Math.rint((m - 1f) * 1024f);
        if (mant == 1024) {
            mant = 0;
            e++;
        }
        return (short) (sign | ((e + 15) << 10) | mant);
    }

    static float halfToFloat(short h) {
        int s = (h >> 15) & 1;
        int e = (h >> 10) & 0x1f;
        int m = h & 0x3ff;
        float v = e == 0 ? m * 0x1p-24f : (float) Math.scalb(1.0 + m / 1024.0, e - 15);
        return s == 1 ? -v : v;
    }
}
