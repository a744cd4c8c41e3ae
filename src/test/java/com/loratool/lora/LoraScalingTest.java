package com.loratool.lora;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.loratool.config.LoraConfig;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The one scaling, by hand: alpha / r, or alpha / sqrt(r) with rslora. */
class LoraScalingTest {
    @Test
    void scalingIsAlphaOverRank() {
        assertEquals(2.0, new LoraScaling(1, 2, false).value(), 0);
        assertEquals(1.0, new LoraScaling(2, 2, false).value(), 0);
        assertEquals(0.5, new LoraScaling(4, 2, false).value(), 0);
    }

    @Test
    void rsloraScalingIsAlphaOverSqrtRank() {
        assertEquals(2.0, new LoraScaling(1, 2, true).value(), 0);
        assertEquals(1.4142135623730951, new LoraScaling(2, 2, true).value(), 1e-15); // 2 / sqrt 2
        assertEquals(1.0, new LoraScaling(4, 2, true).value(), 0);
    }

    @Test
    void atRankKeepsTheScalingAndAdjustsAlpha() {
        LoraScaling s = new LoraScaling(2, 2, false); // 1.0
        assertEquals(new LoraScaling(6, 6, false), s.atRank(6));
        LoraScaling rs = new LoraScaling(4, 2, true); // 1.0
        assertEquals(new LoraScaling(9, 3, true), rs.atRank(9));
    }

    @Test
    void layersOfAConfigGetItsRankAndAlpha() {
        LoraConfig c = LoraConfig.defaults().with(Map.of("r", 2, "alpha", 2, "rslora", true));
        assertEquals(new LoraScaling(2, 2, true), LoraScaling.of(c, "pretrained.blocks.0.attn.qkv"));
    }

    @Test
    void rankBelowOneIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> new LoraScaling(0, 2, false));
    }
}
