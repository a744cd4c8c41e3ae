package com.loratool.model.weights;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.loratool.LoraException;
import com.loratool.io.HostTensor;
import com.loratool.io.Safetensors;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StateDictsTest {
    static final Path TINY = PthReaderTest.TINY;

    @TempDir
    Path tmp;

    static void assertSameTensors(Map<String, HostTensor> a, Map<String, HostTensor> b) {
        assertEquals(a.keySet(), b.keySet());
        for (String k : a.keySet()) {
            assertArrayEquals(a.get(k).shape(), b.get(k).shape(), k);
            assertArrayEquals(a.get(k).data(), b.get(k).data(), k);
        }
    }

    @Test
    void hfSafetensorsMapsToExactlyTheOfficialTensors() {
        Map<String, HostTensor> pth = StateDicts.read(TINY.resolve("weights.pth"));
        Map<String, HostTensor> hf = StateDicts.read(TINY.resolve("weights-hf.safetensors"));
        assertEquals(127, hf.size());
        assertSameTensors(pth, hf);
        assertArrayEquals(new long[] {144, 48}, hf.get("pretrained.blocks.3.attn.qkv.weight").shape());
        assertArrayEquals(new long[] {144}, hf.get("pretrained.blocks.3.attn.qkv.bias").shape());
    }

    @Test
    void officialToHfSplitsQkvExactlyAsTheReferenceScript() {
        // to_hf.py (reference) wrote weights-hf.safetensors from weights.pth
        Map<String, HostTensor> hfFile = Safetensors.read(TINY.resolve("weights-hf.safetensors"));
        Map<String, HostTensor> mine = HfNames.fromOfficial(PthReader.read(TINY.resolve("weights.pth")));
        assertSameTensors(hfFile, mine);
    }

    @Test
    void nameMappingExamplesAndInverse() {
        assertEquals("depth_head.scratch.refinenet1.out_conv.weight",
                HfNames.toOfficial("neck.fusion_stage.layers.3.projection.weight"));
        assertEquals("depth_head.scratch.refinenet4.resConfUnit2.conv1.bias",
                HfNames.toOfficial("neck.fusion_stage.layers.0.residual_layer2.convolution1.bias"));
        assertEquals("depth_head.scratch.layer1_rn.weight", HfNames.toOfficial("neck.convs.0.weight"));
        assertEquals("depth_head.scratch.output_conv2.2.bias", HfNames.toOfficial("head.conv3.bias"));
        assertEquals("pretrained.blocks.11.ls2.gamma",
                HfNames.toOfficial("backbone.encoder.layer.11.layer_scale2.lambda1"));
        assertEquals("pretrained.blocks.2.attn.qkv.weight",
                HfNames.toOfficial("backbone.encoder.layer.2.attention.attention.key.weight"));
        assertEquals("backbone.embeddings.position_embeddings", HfNames.toHf("pretrained.pos_embed"));
        assertNull(HfNames.toHf("pretrained.blocks.0.attn.qkv.weight"));
        assertEquals(List.of("backbone.encoder.layer.0.attention.attention.query.bias",
                        "backbone.encoder.layer.0.attention.attention.key.bias",
                        "backbone.encoder.layer.0.attention.attention.value.bias"),
                HfNames.qkvNames("pretrained.blocks.0.attn.qkv.bias"));
        assertNull(HfNames.toOfficial("backbone.something.else"));
        for (String k : PthReader.read(TINY.resolve("weights.pth")).keySet()) {
            if (HfNames.qkvNames(k) == null) {
                assertEquals(k, HfNames.toOfficial(HfNames.toHf(k)), k);
            }
        }
    }

    @Test
    void fp16AndFolderAndPrefixVariants() throws Exception {
        assertEquals(127, StateDicts.read(TINY.resolve("weights-bf16.pth")).size());
        // a downloaded HF folder: model.safetensors inside
        Path dir = tmp.resolve("Depth-Anything-V2-Tiny-hf");
        Files.createDirectories(dir);
        Files.copy(TINY.resolve("weights-hf.safetensors"), dir.resolve("model.safetensors"));
        assertEquals(127, StateDicts.read(dir).size());
        // DataParallel-style "module." prefix, official names in safetensors
        Map<String, HostTensor> sd = PthReader.read(TINY.resolve("weights.pth"));
        Map<String, HostTensor> prefixed = new LinkedHashMap<>();
        sd.forEach((k, v) -> prefixed.put("module." + k, v));
        Path p = tmp.resolve("prefixed.safetensors");
        Safetensors.write(p, prefixed, Map.of());
        assertSameTensors(sd, StateDicts.read(p));
    }

    @Test
    void badInputsGiveOneLineErrors() throws Exception {
        Path missing = tmp.resolve("nope.pth");
        assertEquals(missing + ": file not found",
                assertThrows(LoraException.class, () -> StateDicts.read(missing)).getMessage());
        Path text = tmp.resolve("notes.pth");
        Files.writeString(text, "some notes, not weights\n");
        assertEquals(text + ": not a checkpoint (expected a PyTorch .pth or a .safetensors file)",
                assertThrows(LoraException.class, () -> StateDicts.read(text)).getMessage());
        Path png = TINY.resolve("image.png");
        assertTrue(assertThrows(LoraException.class, () -> StateDicts.read(png)).getMessage()
                .startsWith(png + ": not a checkpoint"));
        Path emptyDir = tmp.resolve("empty");
        Files.createDirectories(emptyDir);
        assertTrue(assertThrows(LoraException.class, () -> StateDicts.read(emptyDir)).getMessage()
                .contains("folder without model.safetensors"));
        Path other = tmp.resolve("resnet.safetensors");
        Safetensors.write(other, Map.of("conv1.weight", new HostTensor(new long[] {1}, new float[] {1}),
                "fc.bias", new HostTensor(new long[] {1}, new float[] {1})), Map.of());
        assertEquals(other + ": not a Depth Anything V2 checkpoint (tensor names like 'conv1.weight', 'fc.bias')",
                assertThrows(LoraException.class, () -> StateDicts.read(other)).getMessage());
        // an HF file missing one value tensor
        Map<String, HostTensor> hf = new LinkedHashMap<>(Safetensors.read(TINY.resolve("weights-hf.safetensors")));
        hf.remove("backbone.encoder.layer.1.attention.attention.value.weight");
        Path partial = tmp.resolve("partial.safetensors");
        Safetensors.write(partial, hf, Map.of());
        assertEquals(partial + ": 'backbone.encoder.layer.1.attention.attention.value.weight' is missing"
                        + " (needed with the other of query/key/value)",
                assertThrows(LoraException.class, () -> StateDicts.read(partial)).getMessage());
        // truncated safetensors
        byte[] all = Files.readAllBytes(TINY.resolve("weights-hf.safetensors"));
        Path cut = tmp.resolve("cut.safetensors");
        Files.write(cut, Arrays.copyOf(all, all.length - 100));
        assertTrue(assertThrows(LoraException.class, () -> StateDicts.read(cut)).getMessage()
                .contains("truncated or corrupt"));
    }

    @Test
    void mismatchListsMissingUnexpectedAndMisshaped() {
        Map<String, HostTensor> sd = new LinkedHashMap<>();
        sd.put("a", new HostTensor(new long[] {2}, new float[2]));
        sd.put("b", new HostTensor(new long[] {3}, new float[3]));
        sd.put("x", new HostTensor(new long[] {1}, new float[1]));
        Map<String, long[]> want = new LinkedHashMap<>();
        want.put("a", new long[] {2});
        want.put("b", new long[] {4});
        want.put("c", new long[] {1});
        assertEquals("1 missing ('c'); 1 unexpected ('x'); 1 mis-shaped ('b [3] vs model [4]')",
                StateDicts.mismatch(sd, want));
        want.remove("c");
        want.put("b", new long[] {3});
        want.put("x", new long[] {1});
        assertEquals("", StateDicts.mismatch(sd, want));
    }
}
