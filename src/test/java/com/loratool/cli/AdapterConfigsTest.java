package com.loratool.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Locale;
import org.junit.jupiter.api.Test;

/**
 * The example adapter configs on ViT-S shapes (random weights): the counts PEFT reports for the
 * same targets on the Hugging Face model, by hand: q,v r=8 is 12 blocks x 2 x 8 x (384 + 384);
 * DoRA on qkv adds a magnitude per output feature, 12 x 1,152; rank_pattern tapers 16/8/4.
 */
class AdapterConfigsTest {
    @Test
    void qvSlicesR8OnViTSHasPeftsCount() {
        TrainCommandTest.Run r = TrainCommandTest.run("info", "--config", "configs/qv-r8.yaml", "--set", "model.weights=random");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().startsWith("trainable params: 147,456 || all params: 24,932,545 || trainable%: 0.5914"), r.out());
        assertTrue(r.out().contains("adapted layers (24):\n  pretrained.blocks.0.attn.qkv.q\n  pretrained.blocks.0.attn.qkv.v\n"), r.out());
    }

    @Test
    void doraQkvAndTaperedRanks() {
        TrainCommandTest.Run r = TrainCommandTest.run("info", "--config", "configs/dora-qkv-r8.yaml", "--set", "model.weights=random");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().startsWith("trainable params: 161,280 || "), r.out()); // 147,456 + 12 x 1,152
        // blocks 0-3 r 16: 16 x (384 + 1152) + 1152; 4-7 r 8; 8-11 r 4
        r = TrainCommandTest.run("info", "--config", "configs/dora-qkv-r8.yaml", "--set", "model.weights=random",
                "--set", "lora.rank_pattern={'blocks\\.[0-3]\\.attn\\.qkv': 16, 'blocks\\.(8|9|10|11)\\.attn\\.qkv': 4}");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().startsWith("trainable params: " + String.format(Locale.ROOT, "%,d",
                4 * (16 * 1536 + 1152) + 4 * (8 * 1536 + 1152) + 4 * (4 * 1536 + 1152)) + " || "), r.out());
        r = TrainCommandTest.run("info", "--config", "configs/qv-r8.yaml", "--set", "model.weights=random",
                "--set", "lora.targets=[qkv, 'qkv:v']");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("targeted both whole and as q/k/v slices"), r.err());
    }
}
