package com.loratool.model.weights;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import com.loratool.io.Safetensors;
import com.loratool.train.TinyModels;
import java.nio.file.Path;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/** The one rename table, read both ways, against the names of the fixture made by the official and HF code. */
class HfNamesTest {
    private static final Path TINY = TinyModels.dir("da2-tiny");

    @Test
    void everyOfficialNameGoesToHfAndBack() {
        for (String k : StateDicts.read(TINY.resolve("weights.pth")).keySet()) {
            if (HfNames.qkvNames(k) != null) {
                for (String part : HfNames.qkvNames(k)) {
                    assertEquals(k, HfNames.toOfficial(part), part);
                }
                continue;
            }
            String hf = HfNames.toHf(k);
            assertNotNull(hf, k);
            assertEquals(k, HfNames.toOfficial(hf), hf);
        }
    }

    @Test
    void theHfFixturesNamesAreExactlyTheOfficialOnesRenamed() {
        Set<String> official = new TreeSet<>(StateDicts.read(TINY.resolve("weights.pth")).keySet());
        Set<String> renamed = new TreeSet<>();
        for (String hf : Safetensors.read(TINY.resolve("weights-hf.safetensors")).keySet()) {
            renamed.add(HfNames.toOfficial(hf));
        }
        assertEquals(official, renamed);
        // the reversed fusion numbering and the shifted conv numbering, by hand
        assertEquals("depth_head.scratch.refinenet4.out_conv.weight",
                HfNames.toOfficial("neck.fusion_stage.layers.0.projection.weight"));
        assertEquals("neck.convs.0.weight", HfNames.toHf("depth_head.scratch.layer1_rn.weight"));
        assertNull(HfNames.toHf("pretrained.blocks.0.attn.qkv.weight"), "qkv is three HF tensors");
    }
}
