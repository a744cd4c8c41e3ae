package com.loratool.lora;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import com.loratool.config.LoraConfig;
import com.loratool.io.Checksums;
import com.loratool.io.HostTensor;
import com.loratool.lora.export.MergedWeights;
import com.loratool.lora.export.PeftAdapter;
import com.loratool.model.DepthAnythingV2;
import com.loratool.train.TinyModels;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * q,v slices with DoRA and a rank/alpha pattern on the tiny fixture (4 blocks, embed 48): counts,
 * step zero, in-place merge and merged export, checkpoint and PEFT round trips.
 */
class SliceDoraModelTest {
    static final String HF = "base_model.model.backbone.encoder.layer.";

    @TempDir
    Path dir;

    static LoraConfig cfg() {
        return LoraConfig.defaults().with(Map.of("r", 4, "alpha", 4, "targets", List.of("qkv:q,v"), "dora", true,
                "rank_pattern", Map.of("blocks.0.attn.qkv.q", 2), "alpha_pattern", Map.of("qkv.v", 6.0)));
    }

    /** Random A and B; magnitudes moved about 30% away from ||W||. */
    static void randomise(LoraModel lm, long seed) {
        Random rnd = new Random(seed);
        Map<String, HostTensor> out = new LinkedHashMap<>();
        lm.adapterTensors().forEach((k, t) -> {
            float[] v = t.data().clone();
            for (int i = 0; i < v.length; i++) {
                v[i] = k.endsWith(AdapterSet.M_SUFFIX) ? (float) (v[i] * (1 + 0.3 * rnd.nextGaussian()))
                        : (float) (rnd.nextGaussian() * 0.3);
            }
            out.put(k, new HostTensor(t.shape(), v));
        });
        lm.loadAdapterTensors(out, "test");
    }

    static double maxDiff(float[] a, float[] b) {
        double d = 0;
        for (int i = 0; i < a.length; i++) {
            d = Math.max(d, Math.abs(a[i] - b[i]));
        }
        return d;
    }

    @Test
    void slicesWithDoraMergeExportAndRoundTrip() {
        Map<String, HostTensor> sd = TinyModels.stateDict("da2-tiny");
        long d = sd.get("pretrained.blocks.0.attn.qkv.weight").shape()[1]; // 48
        try (NDManager m = NDManager.newBaseManager()) {
            DepthAnythingV2 model = TinyModels.load("da2-tiny", m);
            NDArray x = LoraTest.input(m);
            float[] base = model.forward(x).toFloatArray();
            float[] adapted;
            Map<String, HostTensor> inPlace = new LinkedHashMap<>();
            Path w = TinyModels.dir("da2-tiny").resolve("weights.pth");
            try (LoraModel lm = LoraInjector.inject(model, cfg(), 1, m)) {
                // q and v of 4 blocks, A r x D + B D x r + magnitude D; block 0's q has r = 2
                assertEquals(7 * (4 * 2 * d + d) + (2 * 2 * d + d), lm.trainableCount());
                assertEquals("pretrained.blocks.0.attn.qkv.q", lm.adaptedNames().get(0));
                assertEquals("pretrained.blocks.0.attn.qkv.v", lm.adaptedNames().get(1));
                assertEquals(new LoraScaling(6, 6.0, false).alpha(), lm.layers().get("pretrained.blocks.1.attn.qkv.v").scaling().alpha());
                double scale = maxDiff(base, new float[base.length]);
                double init = maxDiff(base, model.forward(x).toFloatArray());
                assertTrue(init < 1e-4 * scale, "DoRA at init is the base model: " + init);
                randomise(lm, 4);
                adapted = model.forward(x).toFloatArray();
                assertTrue(maxDiff(base, adapted) > 1e-2 * scale, maxDiff(base, adapted) + " vs output scale " + scale);

                lm.merge();
                float[] merged = model.forward(x).toFloatArray();
                assertTrue(maxDiff(adapted, merged) < 1e-4 * scale, "merged vs adapted " + maxDiff(adapted, merged));
                model.namedParameters().forEach((k, p) -> inPlace.put(k, new HostTensor(p.shape().getShape(), p.array().toFloatArray())));
                HostTensor qkv = inPlace.get("pretrained.blocks.2.attn.qkv.weight");
                HostTensor orig = sd.get("pretrained.blocks.2.attn.qkv.weight");
                assertArrayEquals(new QkvSlice("x", 1).rows(orig).data(), new QkvSlice("x", 1).rows(qkv).data(), "k rows untouched");
                assertFalse(Arrays.equals(new QkvSlice("x", 0).rows(orig).data(), new QkvSlice("x", 0).rows(qkv).data()));
                // the merged export is the same function: bit for bit
                LinkedHashMap<String, HostTensor> exported = MergedWeights.merge(sd, lm.adapters(),
                        n -> lm.layers().get(n).scaling().value());
                for (int b = 0; b < 4; b++) {
                    String k = "pretrained.blocks." + b + ".attn.qkv.weight";
                    assertArrayEquals(exported.get(k).data(), inPlace.get(k).data(), k);
                }
                lm.unmerge();
                assertArrayEquals(adapted, model.forward(x).toFloatArray());
                AdapterCheckpoint.save(dir.resolve("ck"), AdapterConfig.of(lm, w.toString(), Checksums.sha256(w), null, 1),
                        lm.adapterTensors());
            }
            // checkpoint round trip
            AdapterCheckpoint ck = AdapterCheckpoint.load(dir.resolve("ck"));
            assertTrue(ck.config().lora().dora());
            assertEquals(2, ck.scaling("pretrained.blocks.0.attn.qkv.q").r());
            DepthAnythingV2 fresh = TinyModels.load("da2-tiny", m);
            try (LoraModel lm = LoraInjector.apply(fresh, ck, m)) {
                assertArrayEquals(adapted, fresh.forward(x).toFloatArray());
            }
            // PEFT: only query/value, magnitudes, use_dora, patterns under HF names
            PeftAdapter peft = PeftAdapter.export(ck.adapters(), ck::scaling, ck.scaling(), 0, "weights.pth");
            assertTrue(peft.tensors().keySet().stream().noneMatch(k -> k.contains(".key.")));
            assertEquals(8 * 3, peft.tensors().size());
            assertArrayEquals(new long[] {d}, peft.tensors().get(HF + "3.attention.attention.value.lora_magnitude_vector").shape());
            assertTrue(peft.config().get("use_dora").asBoolean());
            assertEquals(2, peft.config().get("rank_pattern").get("backbone.encoder.layer.0.attention.attention.query").asInt());
            assertEquals(1, peft.config().get("rank_pattern").size());
            assertEquals(6.0, peft.config().get("alpha_pattern").get("backbone.encoder.layer.2.attention.attention.value").asDouble());
            assertEquals(4, peft.config().get("alpha_pattern").size());
            peft.write(dir.resolve("peft"));
            PeftAdapter.Imported imp = PeftAdapter.read(dir.resolve("peft")).toProject(dir.resolve("peft"));
            assertEquals(ck.adapters().layers().keySet(), imp.adapters().layers().keySet());
            AdapterCheckpoint.save(dir.resolve("imported"), imp.adapters(), imp.scaling(), w, Checksums.sha256(w), null);
            AdapterCheckpoint back = AdapterCheckpoint.load(dir.resolve("imported"));
            assertTrue(back.config().lora().dora());
            LinkedHashMap<String, HostTensor> viaPeft = MergedWeights.merge(sd, back.adapters(), n -> back.scaling(n).value());
            for (int b = 0; b < 4; b++) {
                String k = "pretrained.blocks." + b + ".attn.qkv.weight";
                double err = maxDiff(viaPeft.get(k).data(), inPlace.get(k).data());
                assertTrue(err < 1e-6, k + ": " + err);
            }
            DepthAnythingV2 again = TinyModels.load("da2-tiny", m);
            try (LoraModel lm = LoraInjector.apply(again, back, m)) {
                double err = maxDiff(adapted, again.forward(x).toFloatArray());
                assertTrue(err < 1e-4 * maxDiff(base, new float[base.length]), "via PEFT " + err);
            }
        }
    }

    /** DoRA on whole qkv layers: PEFT export splits the magnitude with B, import fuses both back. */
    @Test
    void doraOnFusedQkvSplitsAndFusesTheMagnitude() {
        try (NDManager m = NDManager.newBaseManager()) {
            DepthAnythingV2 model = TinyModels.load("da2-tiny", m);
            LoraConfig c = LoraConfig.defaults().with(Map.of("r", 2, "targets", List.of("qkv"), "dora", true));
            try (LoraModel lm = LoraInjector.inject(model, c, 1, m)) {
                randomise(lm, 8);
                AdapterSet set = lm.adapters();
                PeftAdapter peft = PeftAdapter.export(set, lm.layers().get("pretrained.blocks.0.attn.qkv").scaling(), 0, "w");
                HostTensor mq = peft.tensors().get(HF + "1.attention.attention.key.lora_magnitude_vector");
                HostTensor full = set.layers().get("pretrained.blocks.1.attn.qkv").magnitude();
                assertArrayEquals(new QkvSlice("x", 1).rows(full).data(), mq.data());
                PeftAdapter.Imported imp = peft.toProject(Path.of("peft"));
                assertEquals(set.layers().keySet(), imp.adapters().layers().keySet());
                assertArrayEquals(full.data(), imp.adapters().layers().get("pretrained.blocks.1.attn.qkv").magnitude().data());
                Map<String, HostTensor> sd = TinyModels.stateDict("da2-tiny");
                HostTensor a = set.layers().get("pretrained.blocks.1.attn.qkv").mergeInto(sd.get("pretrained.blocks.1.attn.qkv.weight"), c.alpha() / c.r());
                HostTensor b = imp.adapters().layers().get("pretrained.blocks.1.attn.qkv")
                        .mergeInto(sd.get("pretrained.blocks.1.attn.qkv.weight"), imp.scaling().value());
                assertTrue(maxDiff(a.data(), b.data()) < 1e-6, "" + maxDiff(a.data(), b.data()));
            }
        }
    }
}
