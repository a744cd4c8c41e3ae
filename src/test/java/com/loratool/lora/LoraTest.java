package com.loratool.lora;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.loratool.LoraException;
import com.loratool.config.LoraConfig;
import com.loratool.io.Checksums;
import com.loratool.io.HostTensor;
import com.loratool.model.DepthAnythingV2;
import com.loratool.model.ModelConfig;
import com.loratool.train.TinyModels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Adapters on the tiny fixture model (official module names, 4 blocks, embed 48). */
class LoraTest {
    @TempDir
    Path dir;

    static LoraConfig cfg(int r, String... targets) {
        return LoraConfig.defaults().with(Map.of("r", r, "alpha", 2 * r, "targets", List.of(targets)));
    }

    /** {@code c} also adapting the DPT head's convolutions. */
    static LoraConfig withHeadConvs(LoraConfig c) {
        return c.with("head_convs", true);
    }

    static NDArray input(NDManager m) {
        Random rnd = new Random(3);
        float[] v = new float[2 * 3 * 28 * 42];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) rnd.nextGaussian();
        }
        return m.create(v, new Shape(2, 3, 28, 42));
    }

    /** Random B (and A) so the adapters change the output. */
    static void randomise(LoraModel lm, long seed) {
        Random rnd = new Random(seed);
        Map<String, HostTensor> sd = lm.adapterTensors();
        Map<String, HostTensor> out = new LinkedHashMap<>();
        sd.forEach((k, t) -> {
            float[] v = new float[t.data().length];
            for (int i = 0; i < v.length; i++) {
                v[i] = (float) (rnd.nextGaussian() * 0.05);
            }
            out.put(k, new HostTensor(t.shape(), v));
        });
        lm.loadAdapterTensors(out, "test");
    }

    @Test
    void stepZeroOutputEqualsTheBaseModel() {
        try (NDManager m = NDManager.newBaseManager()) {
            DepthAnythingV2 model = TinyModels.load("da2-tiny", m);
            NDArray x = input(m);
            float[] base = model.forward(x).toFloatArray();
            LoraConfig c = withHeadConvs(cfg(4, "linear"));
            try (LoraModel lm = LoraInjector.inject(model, c, 1, m)) {
                assertArrayEquals(base, model.forward(x).toFloatArray());
            }
        }
    }

    @Test
    void trainableCountIsRankTimesInPlusOut() {
        // expected from the checkpoint's shapes alone: qkv weights are (144, 48) in each of 4 blocks
        long expected = 0;
        for (Map.Entry<String, HostTensor> e : TinyModels.stateDict("da2-tiny").entrySet()) {
            if (e.getKey().matches("pretrained\\.blocks\\.\\d+\\.(attn\\.qkv|mlp\\.fc2)\\.weight")) {
                long[] s = e.getValue().shape();
                expected += 8 * (s[0] + s[1]);
            }
        }
        assertEquals(4 * 8 * (144 + 48) + 4 * 8 * (48 + 192), expected);
        try (NDManager m = NDManager.newBaseManager()) {
            DepthAnythingV2 model = TinyModels.load("da2-tiny", m);
            long all = 0;
            for (HostTensor t : TinyModels.stateDict("da2-tiny").values()) {
                all += t.numel();
            }
            try (LoraModel lm = LoraInjector.inject(model, cfg(8, "qkv", "fc2"), 1, m)) {
                assertEquals(expected, lm.trainableCount());
                assertEquals(8, lm.adaptedNames().size());
                String s = String.format(Locale.ROOT, "trainable params: %,d || all params: %,d || trainable%%: %.4f",
                        expected, all + expected, 100.0 * expected / (all + expected));
                assertEquals(s, lm.summary());
            }
        }
    }

    @Test
    void targetsSelectLayersByOfficialNames() {
        try (NDManager m = NDManager.newBaseManager()) {
            DepthAnythingV2 model = TinyModels.load("da2-tiny", m);
            try (LoraModel lm = LoraInjector.inject(model, cfg(2, "attention"), 1, m)) {
                assertEquals(List.of("pretrained.blocks.0.attn.qkv", "pretrained.blocks.0.attn.proj"),
                        lm.adaptedNames().subList(0, 2));
                assertEquals(8, lm.adaptedNames().size());
            }
            try (LoraModel lm = LoraInjector.inject(model, cfg(2, "mlp"), 1, m)) {
                assertTrue(lm.adaptedNames().stream().allMatch(n -> n.matches("pretrained\\.blocks\\.\\d\\.mlp\\.fc[12]")));
                assertEquals(8, lm.adaptedNames().size());
            }
            try (LoraModel lm = LoraInjector.inject(model, cfg(2, "linear"), 1, m)) {
                assertEquals(16, lm.adaptedNames().size());
            }
            try (LoraModel lm = LoraInjector.inject(model, cfg(2, "re:pretrained\\.blocks\\.(2|3)\\.attn\\.qkv"), 1, m)) {
                assertEquals(List.of("pretrained.blocks.2.attn.qkv", "pretrained.blocks.3.attn.qkv"), lm.adaptedNames());
            }
            LoraConfig head = LoraConfig.defaults().with(Map.of("r", 2, "alpha", 4, "targets", List.of(), "head_convs", true));
            try (LoraModel lm = LoraInjector.inject(model, head, 1, m)) {
                assertTrue(lm.adaptedNames().size() > 5);
                assertTrue(lm.adaptedNames().stream().allMatch(n -> n.startsWith("depth_head.")));
            }
            LoraException e = assertThrows(LoraException.class, () -> LoraInjector.inject(model, cfg(2, "qvk"), 1, m));
            assertTrue(e.getMessage().contains("did you mean qkv?"), e.getMessage());
            e = assertThrows(LoraException.class, () -> LoraInjector.inject(model, cfg(2, "re:nothing\\.here"), 1, m));
            assertTrue(e.getMessage().contains("match no layer"), e.getMessage());
        }
    }

    @Test
    void deltaWeightMergedIntoTheBaseGivesTheAdaptedOutput() {
        try (NDManager m = NDManager.newBaseManager()) {
            DepthAnythingV2 model = TinyModels.load("da2-tiny", m);
            NDArray x = input(m);
            LoraConfig c = withHeadConvs(cfg(4, "linear"));
            float[] adapted;
            Map<String, HostTensor> merged = new LinkedHashMap<>(TinyModels.stateDict("da2-tiny"));
            try (LoraModel lm = LoraInjector.inject(model, c, 1, m)) {
                randomise(lm, 5);
                adapted = model.forward(x).toFloatArray();
                for (LoraLayer l : lm.layers().values()) {
                    HostTensor w = merged.get(l.name() + ".weight");
                    HostTensor d = l.deltaWeight();
                    assertArrayEquals(w.shape(), d.shape(), l.name());
                    float[] v = w.data().clone();
                    for (int i = 0; i < v.length; i++) {
                        v[i] += d.data()[i];
                    }
                    merged.put(l.name() + ".weight", new HostTensor(w.shape(), v));
                }
            }
            float[] base = model.forward(x).toFloatArray(); // adapters removed
            DepthAnythingV2 mergedModel = new DepthAnythingV2(
                    ModelConfig.fromYaml(TinyModels.dir("da2-tiny").resolve("model.yaml")), m);
            mergedModel.load(merged);
            float[] out = mergedModel.forward(x).toFloatArray();
            double maxDiff = 0;
            double maxChange = 0;
            for (int i = 0; i < out.length; i++) {
                maxDiff = Math.max(maxDiff, Math.abs(out[i] - adapted[i]));
                maxChange = Math.max(maxChange, Math.abs(base[i] - adapted[i]));
            }
            assertTrue(maxChange > 1e-3, "adapters should change the output: " + maxChange);
            assertTrue(maxDiff < 1e-4 * Math.max(1, maxChange), "merged vs adapted: " + maxDiff);
        }
    }

    @Test
    void checkpointRoundTripsAndAppliesToAFreshModel() throws Exception {
        try (NDManager m = NDManager.newBaseManager()) {
            DepthAnythingV2 model = TinyModels.load("da2-tiny", m);
            NDArray x = input(m);
            float[] expected;
            LoraConfig c = withHeadConvs(cfg(4, "qkv", "fc1"));
            try (LoraModel lm = LoraInjector.inject(model, c, 1, m)) {
                randomise(lm, 9);
                expected = model.forward(x).toFloatArray();
                Path w = TinyModels.dir("da2-tiny").resolve("weights.pth");
                AdapterCheckpoint.save(dir, AdapterConfig.of(lm, w.toString(), Checksums.sha256(w), null, 3), lm.adapterTensors());
            }
            assertTrue(Files.exists(dir.resolve("adapter.safetensors")));
            AdapterCheckpoint ck = AdapterCheckpoint.load(dir);
            assertTrue(ck.tensors().containsKey("pretrained.blocks.0.attn.qkv.lora_A.weight"));
            assertArrayEquals(new long[] {4, 48}, ck.tensors().get("pretrained.blocks.0.attn.qkv.lora_A.weight").shape());
            assertArrayEquals(new long[] {144, 4}, ck.tensors().get("pretrained.blocks.0.attn.qkv.lora_B.weight").shape());
            assertEquals(64, ck.config().baseWeightsSha256().length());
            assertEquals(3, ck.config().epoch());
            DepthAnythingV2 fresh = TinyModels.load("da2-tiny", m);
            try (LoraModel lm = LoraInjector.apply(fresh, ck, m)) {
                assertArrayEquals(expected, fresh.forward(x).toFloatArray());
            }
            LoraException e = assertThrows(LoraException.class, () -> AdapterCheckpoint.load(dir.resolve("nope")));
            assertTrue(e.getMessage().contains("nope"));
        }
    }
}
