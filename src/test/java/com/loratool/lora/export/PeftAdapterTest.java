package com.loratool.lora.export;

import static com.loratool.lora.export.MergedWeightsTest.rand;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.loratool.LoraException;
import com.loratool.io.HostTensor;
import com.loratool.lora.AdapterSet;
import com.loratool.lora.LoraPair;
import com.loratool.lora.LoraScaling;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PeftAdapterTest {
    static final int D = 6;
    static final String QKV = "pretrained.blocks.0.attn.qkv";
    static final String PROJ = "pretrained.blocks.1.attn.proj";
    static final String FC1 = "pretrained.blocks.0.mlp.fc1";
    static final String HF = "base_model.model.backbone.encoder.layer.";

    static AdapterSet sample(Random r, int rank) {
        LinkedHashMap<String, LoraPair> m = new LinkedHashMap<>();
        m.put(QKV, new LoraPair(rand(r, rank, D), rand(r, 3 * D, rank)));
        m.put(PROJ, new LoraPair(rand(r, rank, D), rand(r, D, rank)));
        m.put(FC1, new LoraPair(rand(r, rank, D), rand(r, 4 * D, rank)));
        return new AdapterSet(m);
    }

    static double maxRelDiff(HostTensor a, HostTensor b) {
        assertArrayEquals(a.shape(), b.shape());
        double num = 0, den = 0;
        for (int i = 0; i < a.data().length; i++) {
            num = Math.max(num, Math.abs(a.data()[i] - b.data()[i]));
            den = Math.max(den, Math.abs(b.data()[i]));
        }
        return num / den;
    }

    @Test
    void exportSplitsQkvSharingAAndImportFusesBackExactly(@TempDir Path dir) {
        Random r = new Random(11);
        int rank = 2;
        double alpha = 4;
        AdapterSet set = sample(r, rank);
        PeftAdapter peft = PeftAdapter.export(set, new LoraScaling(rank, alpha, false), 0.0, "weights.pth");
        assertEquals(10, peft.tensors().size()); // q, k, v, proj, fc1 x (A, B)
        HostTensor qa = peft.tensors().get(HF + "0.attention.attention.query.lora_A.weight");
        HostTensor va = peft.tensors().get(HF + "0.attention.attention.value.lora_A.weight");
        assertSame(set.layers().get(QKV).a(), qa);
        assertSame(qa, va);
        HostTensor kb = peft.tensors().get(HF + "0.attention.attention.key.lora_B.weight");
        assertArrayEquals(new long[] {D, rank}, kb.shape());
        assertArrayEquals(Arrays.copyOfRange(set.layers().get(QKV).b().data(), D * rank, 2 * D * rank), kb.data());
        assertTrue(peft.tensors().containsKey(HF + "1.attention.output.dense.lora_B.weight"));
        assertTrue(peft.tensors().containsKey(HF + "0.mlp.fc1.lora_A.weight"));
        assertEquals(5, peft.config().get("target_modules").size());
        assertEquals("LORA", peft.config().get("peft_type").asText());

        peft.write(dir);
        PeftAdapter.Imported back = PeftAdapter.read(dir).toProject(dir);
        assertEquals(3 * rank, back.scaling().r());
        assertEquals(alpha / rank, back.scaling().value(), 1e-12);
        assertEquals(3, back.adapters().layers().size());
        for (String m : set.layers().keySet()) {
            LoraPair p = back.adapters().layers().get(m);
            assertEquals(3 * rank, p.rank(), m);
            double err = maxRelDiff(p.delta(back.scaling().value()), set.layers().get(m).delta(alpha / rank));
            assertTrue(err < 1e-6, m + ": " + err);
        }
    }

    /**
     * A PEFT-trained adapter: own A per q and v (no k), per-layer rank and alpha via patterns,
     * rslora. q and v become qkv slices (the key rows untouched), each exactly its PEFT update.
     */
    @Test
    void separateQueryValueAdaptersBecomeSlices() {
        Random r = new Random(12);
        LinkedHashMap<String, HostTensor> t = new LinkedHashMap<>();
        String q = HF + "0.attention.attention.query";
        String v = HF + "0.attention.attention.value";
        String fc2 = HF + "0.mlp.fc2";
        t.put(q + ".lora_A.weight", rand(r, 4, D));
        t.put(q + ".lora_B.weight", rand(r, D, 4));
        t.put(v + ".lora_A.weight", rand(r, 4, D));
        t.put(v + ".lora_B.weight", rand(r, D, 4));
        t.put(fc2 + ".lora_A.weight", rand(r, 2, 4 * D));
        t.put(fc2 + ".lora_B.weight", rand(r, D, 2));
        PeftAdapter.Imported imp = PeftAdapter.export(sample(r, 4), new LoraScaling(4, 8, true), 0, "x").toProject(Path.of("."));
        assertEquals(12, imp.scaling().r());
        var cfg = PeftAdapter.export(sample(r, 4), new LoraScaling(4, 8, true), 0, "x").config();
        cfg.putArray("target_modules").add("query").add("value").add("fc2"); // PEFT's suffix match, in layer 0
        cfg.putArray("layers_to_transform").add(0);
        cfg.putObject("rank_pattern").put("mlp.fc2", 2);
        cfg.putObject("alpha_pattern").put("fc2", 3.0);
        PeftAdapter.Imported got = new PeftAdapter(t, cfg).toProject(Path.of("peft"));
        double s = 8 / Math.sqrt(4);
        assertEquals(4, got.scaling().r());
        assertEquals(s, got.scaling().value(), 1e-12);
        assertEquals(List.of(QKV + ".q", QKV + ".v", "pretrained.blocks.0.mlp.fc2"),
                new ArrayList<>(got.adapters().layers().keySet()));
        HostTensor dq = new LoraPair(t.get(q + ".lora_A.weight"), t.get(q + ".lora_B.weight")).delta(s);
        HostTensor dv = new LoraPair(t.get(v + ".lora_A.weight"), t.get(v + ".lora_B.weight")).delta(s);
        assertArrayEquals(dq.data(), got.adapters().layers().get(QKV + ".q").delta(got.scaling().value()).data());
        assertArrayEquals(dv.data(), got.adapters().layers().get(QKV + ".v").delta(got.scaling().value()).data());
        HostTensor f2 = got.adapters().layers().get("pretrained.blocks.0.mlp.fc2").delta(got.scaling().value());
        HostTensor want = new LoraPair(t.get(fc2 + ".lora_A.weight"), t.get(fc2 + ".lora_B.weight"))
                .delta(3.0 / Math.sqrt(2)); // its own alpha and rank
        assertTrue(maxRelDiff(f2, want) < 1e-6);
    }

    @Test
    void badPeftAdaptersAreRefused() {
        Random r = new Random(13);
        var cfg = PeftAdapter.export(sample(r, 2), new LoraScaling(2, 2, false), 0, "x").config();
        LinkedHashMap<String, HostTensor> t = new LinkedHashMap<>();
        t.put("base_model.model.classifier.lora_A.weight", rand(r, 2, D));
        t.put("base_model.model.classifier.lora_B.weight", rand(r, D, 2));
        LoraException e = assertThrows(LoraException.class, () -> new PeftAdapter(t, cfg).toProject(Path.of("p")));
        assertEquals("p: 'classifier' is not a module of DepthAnythingForDepthEstimation", e.getMessage());
        cfg.put("use_dora", true);
        e = assertThrows(LoraException.class, () -> new PeftAdapter(t, cfg).toProject(Path.of("p")));
        assertTrue(e.getMessage().contains("DoRA magnitude"), e.getMessage());
        e = assertThrows(LoraException.class, () -> PeftAdapter.read(Path.of("no-such-dir")));
        assertTrue(e.getMessage().startsWith("no-such-dir: "), e.getMessage());
    }
}
