package com.loratool.lora.export;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import com.loratool.config.LoraConfig;
import com.loratool.io.HostTensor;
import com.loratool.lora.AdapterCheckpoint;
import com.loratool.lora.AdapterConfig;
import com.loratool.lora.LoraInjector;
import com.loratool.lora.LoraLayer;
import com.loratool.lora.LoraModel;
import com.loratool.lora.LoraScaling;
import com.loratool.model.DepthAnythingV2;
import com.loratool.model.nn.Conv2d;
import com.loratool.model.nn.Linear;
import com.loratool.model.nn.Module;
import com.loratool.model.nn.Parameter;
import com.loratool.train.TinyModels;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every path that folds adapters into weights gives what the one delta function
 * ({@code LoraPair.mergeInto}, i.e. W + scaling B A) gives: the in-place merge of the benchmark
 * ({@link LoraModel#merge()}), the merged export of a saved checkpoint, and the merge of the
 * PEFT export imported back. Tiny fixture model, linear and conv adapters, r 2, alpha 2, rslora.
 */
class DeltaPathsAgreeTest {
    @TempDir
    Path dir;

    static Parameter weightOf(Module m) {
        return m instanceof Linear lin ? lin.weight() : ((Conv2d) m).weight();
    }

    @Test
    void mergeCheckpointExportAndPeftRoundTripAgreeWithTheDeltaFunction() {
        LoraConfig c = LoraConfig.defaults().with(Map.of("r", 2, "alpha", 2, "rslora", true,
                "targets", List.of("qkv", "fc2"), "head_convs", true));
        Map<String, HostTensor> base = TinyModels.stateDict("da2-tiny");
        try (NDManager m = NDManager.newBaseManager(Device.cpu())) {
            DepthAnythingV2 model = TinyModels.load("da2-tiny", m);
            Map<String, Module> modules = model.namedModules();
            try (LoraModel lm = LoraInjector.inject(model, c, 1, m)) {
                Random rnd = new Random(4);
                LinkedHashMap<String, HostTensor> ad = new LinkedHashMap<>();
                lm.adapterTensors().forEach((k, t) -> {
                    float[] v = new float[t.data().length];
                    for (int i = 0; i < v.length; i++) {
                        v[i] = (float) (rnd.nextGaussian() * 0.05);
                    }
                    ad.put(k, new HostTensor(t.shape(), v));
                });
                lm.loadAdapterTensors(ad, "test");

                // what the one delta function says, per layer with its own scaling (sqrt 2 here)
                Map<String, HostTensor> want = new LinkedHashMap<>();
                for (LoraLayer l : lm.layers().values()) {
                    LoraScaling s = LoraScaling.of(c, l.name());
                    assertEquals(s, l.scaling(), l.name()); // the forward reads the same scaling
                    assertEquals(Math.sqrt(2), s.value(), 1e-15);
                    want.put(l.name() + ".weight", l.pair().mergeInto(base.get(l.name() + ".weight"), s.value()));
                }
                assertTrue(want.keySet().stream().anyMatch(k -> k.startsWith("depth_head.")), "conv adapters too");

                // 1. in place (bench): bit for bit, adapters detached; unmerge restores exactly
                lm.merge();
                for (LoraLayer l : lm.layers().values()) {
                    Module mod = modules.get(l.name());
                    assertArrayEquals(want.get(l.name() + ".weight").data(), weightOf(mod).array().toFloatArray(), l.name());
                    assertTrue(mod instanceof Linear lin ? lin.adapter() == null : ((Conv2d) mod).adapter() == null);
                }
                assertTrue(lm.merged());
                lm.unmerge();
                assertFalse(lm.merged());
                for (LoraLayer l : lm.layers().values()) {
                    Module mod = modules.get(l.name());
                    assertArrayEquals(base.get(l.name() + ".weight").data(), weightOf(mod).array().toFloatArray(), l.name());
                    assertSame(l, mod instanceof Linear lin ? lin.adapter() : ((Conv2d) mod).adapter());
                }

                // 2. checkpoint folder -> merged export: bit for bit, other tensors untouched
                AdapterCheckpoint.save(dir.resolve("ck"), AdapterConfig.of(lm, "weights.pth", null, null, 1),
                        lm.adapterTensors());
                AdapterCheckpoint ck = AdapterCheckpoint.load(dir.resolve("ck"));
                Map<String, HostTensor> merged = AdaptedWeights.merged(base, ck, 1.0);
                assertEquals(base.keySet(), merged.keySet());
                merged.forEach((k, t) -> assertArrayEquals(
                        want.containsKey(k) ? want.get(k).data() : base.get(k).data(), t.data(), k));

                // 3. PEFT export -> files -> import -> merge: the same within float rounding of the
                // re-expressed scaling (qkv re-fused to rank 6, the others zero-padded to rank 6)
                PeftAdapter.export(ck.adapters(), ck.scaling(), 0, "weights.pth").write(dir.resolve("peft"));
                PeftAdapter.Imported back = PeftAdapter.read(dir.resolve("peft")).toProject(dir.resolve("peft"));
                assertEquals(6, back.scaling().r());
                assertEquals(Math.sqrt(2), back.scaling().value(), 1e-12);
                Map<String, HostTensor> viaPeft = MergedWeights.merge(base, back.adapters(), back.scaling().value());
                for (Map.Entry<String, HostTensor> e : want.entrySet()) {
                    float[] w = e.getValue().data();
                    float[] g = viaPeft.get(e.getKey()).data();
                    for (int i = 0; i < w.length; i++) {
                        assertEquals(w[i], g[i], Math.ulp(w[i]), e.getKey() + "[" + i + "]");
                    }
                }
            }
        }
    }
}
