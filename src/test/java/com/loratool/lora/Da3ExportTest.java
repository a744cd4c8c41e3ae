package com.loratool.lora;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import com.loratool.LoraException;
import com.loratool.io.HostTensor;
import com.loratool.io.Safetensors;
import com.loratool.lora.export.MergedWeights;
import com.loratool.lora.export.PeftAdapter;
import com.loratool.model.Da3Checkpoint;
import com.loratool.model.DepthAnythingV2;
import com.loratool.model.Fixtures;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Depth Anything 3 export at library level: random adapters on the tiny DA3 fixtures merged and
 * written in the official Hugging Face layout reload (strictly, with the fixture's exact key set)
 * into a model that computes what the adapted model computes.
 */
class Da3ExportTest {
    @TempDir
    Path dir;

    @Test
    void mergedWeightsKeepTheOfficialNamesAndReloadToTheAdaptedModel() throws Exception {
        for (String fixture : List.of("da3-tiny-mono", "da3-tiny-metric")) {
            Path fix = Fixtures.shared(fixture);
            Da3Checkpoint base = Da3Checkpoint.read(fix);
            Path out = dir.resolve(fixture + "-merged");
            try (NDManager m = NDManager.newBaseManager()) {
                DepthAnythingV2 model = base.instantiate(m);
                NDArray x = LoraTest.input(m);
                float[] plain = model.forward(x).toFloatArray();
                float[] adaptedDepth;
                float[] adaptedSky;
                float[] liveMergedDepth;
                float[] liveMergedSky;
                LinkedHashMap<String, HostTensor> merged;
                try (LoraModel lm = LoraInjector.inject(model, LoraTest.withHeadConvs(LoraTest.cfg(4, "linear")), 1, m)) {
                    LoraTest.randomise(lm, 11);
                    assertTrue(lm.adaptedNames().contains("model.head.scratch.sky_output_conv2.0"));
                    DepthAnythingV2.DepthAndSky o = model.forwardWithSky(x);
                    adaptedDepth = o.depth().toFloatArray();
                    adaptedSky = o.sky().toFloatArray();
                    lm.merge(); // the adapters folded in place (PEFT's merge_adapter): the merge the export writes
                    DepthAnythingV2.DepthAndSky lo = model.forwardWithSky(x);
                    liveMergedDepth = lo.depth().toFloatArray();
                    liveMergedSky = lo.sky().toFloatArray();
                    lm.unmerge();
                    merged = MergedWeights.merge(base.stateDict(), lm.adapters(),
                            name -> lm.layers().get(name).scaling().value());
                }
                MergedWeights.writeDa3(out, merged, base.config(), fixture.replace("-tiny-", "") + "-tiny",
                        fix.resolve(Da3Checkpoint.MODEL_YAML));
                assertEquals("{\"model_name\":\"" + fixture.replace("-tiny-", "") + "-tiny\"}\n",
                        Files.readString(out.resolve(Da3Checkpoint.CONFIG_JSON)));
                // the official names, exactly the fixture's keys (strict loading in the official model)
                assertEquals(Safetensors.read(fix.resolve("model.safetensors")).keySet(),
                        Safetensors.read(out.resolve("model.safetensors")).keySet());
                Da3Checkpoint back = Da3Checkpoint.read(out);
                assertEquals(base.config(), back.config());
                DepthAnythingV2 reloaded = back.instantiate(m);
                DepthAnythingV2.DepthAndSky r = reloaded.forwardWithSky(x);
                double change = Fixtures.relL2(adaptedDepth, plain);
                float[] rd = r.depth().toFloatArray();
                float[] rs = r.sky().toFloatArray();
                double depth = Fixtures.relL2(rd, liveMergedDepth);
                double sky = Fixtures.relL2(rs, liveMergedSky);
                double branchDepth = Fixtures.relL2(rd, adaptedDepth);
                double branchSky = Fixtures.relL2(rs, adaptedSky);
                System.out.printf("%s merged file reloaded vs the adapted model merged in place: depth rel L2 %.3g, sky"
                        + " %.3g; vs the adapters as separate branches: depth %.3g, sky %.3g (the adapters change depth"
                        + " by %.3g)%n", fixture, depth, sky, branchDepth, branchSky, change);
                assertTrue(change > 1e-3, "the adapters must change the output: " + change);
                assertTrue(depth <= 1e-6, "depth rel L2 " + depth);
                assertTrue(sky <= 1e-6, "sky rel L2 " + sky);
                // W x + s B A x against (W + s B A) x: float32 rounding only (V2's MergedModelTest: 1e-5)
                assertTrue(branchDepth <= 1e-5, "depth vs branches rel L2 " + branchDepth);
                assertTrue(branchSky <= 1e-5, "sky vs branches rel L2 " + branchSky);
            }
        }
    }

    /**
     * Nothing half-written: when a later file of the folder cannot be written (here model.yaml, whose
     * source is a folder), the weights already written are removed with the folder this call made, so
     * no model.safetensors is left without its config.json (a rerun would refuse the non-empty folder).
     */
    @Test
    void aFailedMergedFolderLeavesNothing() throws Exception {
        Path fix = Fixtures.shared("da3-tiny-mono");
        Da3Checkpoint base = Da3Checkpoint.read(fix);
        Path out = dir.resolve("merged");
        Path notAFile = Files.createDirectories(dir.resolve("model.yaml-is-a-folder"));
        LoraException e = assertThrows(LoraException.class, () -> MergedWeights.writeDa3(out,
                new LinkedHashMap<>(base.stateDict()), base.config(), "da3mono-tiny", notAFile));
        assertTrue(e.getMessage().startsWith(notAFile.toString()), e.getMessage());
        assertTrue(Files.notExists(out), "left behind: " + (Files.exists(out) ? Arrays.toString(out.toFile().list()) : ""));
        // an existing folder stays, without the files this call wrote
        Files.createDirectories(out);
        assertThrows(LoraException.class, () -> MergedWeights.writeDa3(out,
                new LinkedHashMap<>(base.stateDict()), base.config(), "da3mono-tiny", notAFile));
        assertEquals(0, out.toFile().list().length, Arrays.toString(out.toFile().list()));
    }

    /**
     * The PEFT adapter of a DA3 model names the official module tree (what {@code PeftModel.from_pretrained}
     * finds on the official {@code DepthAnything3}: fused {@code attn.qkv}, head convs under
     * {@code model.head.*}) and reads back through the import reader to the same adapters.
     */
    @Test
    void peftAdapterNamesTheOfficialModulesAndReadsBack() {
        Path fix = Fixtures.shared("da3-tiny-mono");
        Da3Checkpoint base = Da3Checkpoint.read(fix);
        try (NDManager m = NDManager.newBaseManager()) {
            DepthAnythingV2 model = base.instantiate(m);
            Set<String> modules = model.namedModules().keySet();
            try (LoraModel lm = LoraInjector.inject(model, LoraTest.withHeadConvs(LoraTest.cfg(4, "linear")), 1, m)) {
                LoraTest.randomise(lm, 12);
                AdapterSet set = lm.adapters();
                LoraScaling scaling = new LoraScaling(4, 8, false);
                LinkedHashMap<String, HostTensor> full = new LinkedHashMap<>();
                full.put("model.head.scratch.output_conv1.bias", base.stateDict().get("model.head.scratch.output_conv1.bias"));
                PeftAdapter peft = PeftAdapter.export(set, n -> scaling, scaling, 0, "da3mono-tiny", full);
                // module names: the official ones, qkv fused (A r x D, B 3D x r)
                String qkv = PeftAdapter.PREFIX + "model.backbone.pretrained.blocks.0.attn.qkv";
                assertArrayEquals(new long[] {4, 48}, peft.tensors().get(qkv + ".lora_A.weight").shape());
                assertArrayEquals(new long[] {144, 4}, peft.tensors().get(qkv + ".lora_B.weight").shape());
                List<String> targets = new ArrayList<>();
                peft.config().get("target_modules").forEach(t -> targets.add(t.asText()));
                assertEquals(set.layers().keySet().stream().toList(), targets);
                assertTrue(targets.contains("model.head.scratch.sky_output_conv2.0"), targets.toString());
                assertTrue(targets.contains("model.head.scratch.refinenet4.resConfUnit2.conv1"), targets.toString());
                for (String t : targets) {
                    assertTrue(modules.contains(t), t + " is not a module of the official tree");
                }
                for (String k : peft.tensors().keySet()) {
                    assertTrue(k.startsWith(PeftAdapter.PREFIX + "model.backbone.pretrained.blocks.")
                            || k.startsWith(PeftAdapter.PREFIX + "model.head."), k);
                }
                JsonNode save = peft.config().get("modules_to_save");
                assertEquals("model.head.scratch.output_conv1", save.get(0).asText());
                assertTrue(peft.tensors().containsKey(PeftAdapter.PREFIX + "model.head.scratch.output_conv1.bias"));

                // the import reader, against the DA3 model's layers: the same adapters and modules back
                Path out = dir.resolve("peft");
                peft.write(out);
                PeftAdapter.Imported back = PeftAdapter.read(out).toProject(out, PeftAdapter.layersOf(base.stateDict()));
                assertEquals(scaling, back.scaling());
                assertEquals(set.layers().keySet(), back.adapters().layers().keySet());
                for (Map.Entry<String, LoraPair> e : set.layers().entrySet()) {
                    LoraPair b = back.adapters().layers().get(e.getKey());
                    assertArrayEquals(e.getValue().a().data(), b.a().data(), e.getKey());
                    assertArrayEquals(e.getValue().b().data(), b.b().data(), e.getKey());
                }
                assertEquals(full.keySet(), back.modules().keySet());

                // q/k/v slices have no module of their own in the official model: one fused qkv adapter
                // (rank 4 + 4, B in the q and v row blocks, zero k rows), the same merged weights
                LinkedHashMap<String, LoraPair> slices = new LinkedHashMap<>();
                LoraPair p = set.layers().get("model.backbone.pretrained.blocks.0.attn.qkv");
                slices.put("model.backbone.pretrained.blocks.0.attn.qkv.q", new LoraPair(p.a(),
                        new HostTensor(new long[] {48, 4}, Arrays.copyOfRange(p.b().data(), 0, 48 * 4))));
                slices.put("model.backbone.pretrained.blocks.0.attn.qkv.v", new LoraPair(p.a(),
                        new HostTensor(new long[] {48, 4}, Arrays.copyOfRange(p.b().data(), 96 * 4, 144 * 4))));
                slices.put("model.backbone.pretrained.blocks.1.attn.proj",
                        set.layers().get("model.backbone.pretrained.blocks.1.attn.proj"));
                AdapterSet sliced = new AdapterSet(slices);
                PeftAdapter sp = PeftAdapter.export(sliced, scaling, 0, "w");
                assertArrayEquals(new long[] {8, 48}, sp.tensors().get(qkv + ".lora_A.weight").shape());
                assertArrayEquals(new long[] {144, 8}, sp.tensors().get(qkv + ".lora_B.weight").shape());
                assertEquals(8, sp.config().get("rank_pattern").get("model.backbone.pretrained.blocks.0.attn.qkv").asInt());
                assertEquals(List.of("model.backbone.pretrained.blocks.0.attn.qkv",
                        "model.backbone.pretrained.blocks.1.attn.proj"),
                        List.of(sp.config().get("target_modules").get(0).asText(),
                                sp.config().get("target_modules").get(1).asText()));
                Path sdir = dir.resolve("peft-slices");
                sp.write(sdir);
                PeftAdapter.Imported sb = PeftAdapter.read(sdir).toProject(sdir, PeftAdapter.layersOf(base.stateDict()));
                Map<String, HostTensor> want = MergedWeights.merge(base.stateDict(), sliced, scaling.value());
                Map<String, HostTensor> got = MergedWeights.merge(base.stateDict(), sb.adapters(), sb.scaling().value());
                for (String k : List.of("model.backbone.pretrained.blocks.0.attn.qkv.weight",
                        "model.backbone.pretrained.blocks.1.attn.proj.weight")) {
                    assertTrue(Fixtures.relL2(got.get(k).data(), want.get(k).data()) < 1e-7, k);
                    assertTrue(Fixtures.relL2(want.get(k).data(), base.stateDict().get(k).data()) > 1e-3, k);
                }
                // a DoRA slice would need the base weights' row norms for the rows it does not adapt
                LinkedHashMap<String, LoraPair> dora = new LinkedHashMap<>();
                dora.put("model.backbone.pretrained.blocks.0.attn.qkv.k", new LoraPair(p.a(),
                        new HostTensor(new long[] {48, 4}, Arrays.copyOfRange(p.b().data(), 48 * 4, 96 * 4)),
                        new HostTensor(new long[] {48}, new float[48])));
                LoraException e = assertThrows(LoraException.class,
                        () -> PeftAdapter.export(new AdapterSet(dora), scaling, 0, "w"));
                assertTrue(e.getMessage().contains("a DoRA q/k/v slice cannot be a PEFT adapter"), e.getMessage());
            }
        }
    }
}
