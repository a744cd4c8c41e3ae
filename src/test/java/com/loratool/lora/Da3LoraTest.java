package com.loratool.lora;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import com.loratool.model.Da3Checkpoint;
import com.loratool.model.DepthAnythingV2;
import com.loratool.model.Fixtures;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The LoRA targets find Depth Anything 3's layers under the official names, unchanged. */
class Da3LoraTest {
    @Test
    void targetsFindTheDa3Layers() {
        try (NDManager m = NDManager.newBaseManager()) {
            DepthAnythingV2 model = Da3Checkpoint.read(Fixtures.shared("da3-tiny-mono")).instantiate(m);
            NDArray x = LoraTest.input(m);
            float[] before = model.forward(x).toFloatArray();
            try (LoraModel lm = LoraInjector.inject(model, LoraTest.cfg(4, "qkv"), 1, m)) {
                List<String> names = lm.adaptedNames();
                assertEquals(List.of("model.backbone.pretrained.blocks.0.attn.qkv",
                        "model.backbone.pretrained.blocks.1.attn.qkv", "model.backbone.pretrained.blocks.2.attn.qkv",
                        "model.backbone.pretrained.blocks.3.attn.qkv"), names);
                // B starts at zero: the adapted model computes the base model
                float[] after = model.forward(x).toFloatArray();
                assertEquals(0.0, Fixtures.relL2(after, before), 1e-6);
            }
            try (LoraModel lm = LoraInjector.inject(model, LoraTest.withHeadConvs(LoraTest.cfg(2, "linear")), 1, m)) {
                long linear = lm.adaptedNames().stream().filter(n -> n.startsWith("model.backbone.pretrained.")).count();
                assertEquals(4 * 4, linear); // qkv, proj, fc1, fc2 of 4 blocks
                assertTrue(lm.adaptedNames().contains("model.head.scratch.sky_output_conv2.0"), lm.adaptedNames().toString());
                assertTrue(lm.adaptedNames().contains("model.head.scratch.refinenet4.resConfUnit2.conv1"));
            }
        }
    }
}
