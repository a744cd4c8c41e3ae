package com.loratool.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.loratool.LoraException;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class GridSpecTest {
    @Test
    void sweepSyntaxAnyKeyBarsBetweenListValuesCommasOtherwise() {
        GridSpec g = GridSpec.parse("lora.r=4,8,16; lora.targets=[qkv]|[qkv:q,v]|[qkv,proj,fc1,fc2]; train.lr=1e-4,3e-4",
                Set.of());
        List<Map<String, String>> c = g.combinations();
        assertEquals(3 * 3 * 2, c.size());
        assertEquals(Map.of("lora.r", "4", "lora.targets", "[qkv]", "train.lr", "1e-4"), c.get(0));
        assertEquals("3e-4", c.get(1).get("train.lr")); // last axis fastest
        assertEquals("[qkv:q,v]", c.get(2).get("lora.targets"));
        assertEquals(Map.of("lora.r", "16", "lora.targets", "[qkv,proj,fc1,fc2]", "train.lr", "3e-4"), c.get(17));
    }

    @Test
    void bracketsKeepCommasAndPlusJoinsGridsButNotExponents() {
        GridSpec g = GridSpec.parse("lora.targets=[qkv,proj]; train.lr=1e+4 + lora.r=4,8 + lora.targets=[qkv,proj]; train.lr=1e+4",
                Set.of());
        assertEquals(3, g.grids().size());
        List<Map<String, String>> c = g.combinations();
        assertEquals(3, c.size()); // the third grid repeats the first: dropped
        assertEquals(Map.of("lora.targets", "[qkv,proj]", "train.lr", "1e+4"), c.get(0));
        assertEquals(Map.of("lora.r", "8"), c.get(2));
        assertEquals(4, g.size());
    }

    @Test
    void listAxesTakeCommasAsOneValue() {
        assertEquals(List.of(Map.of("targets", "qkv,linear")), GridSpec.parse("targets=qkv,linear", Set.of("targets"))
                .combinations());
        assertEquals(2, GridSpec.parse("targets=qkv|qkv,linear", Set.of("targets")).combinations().size());
    }

    @Test
    void blankIsOneEmptyCombination() {
        GridSpec g = GridSpec.parse("  ", Set.of());
        assertTrue(g.isEmpty());
        assertEquals(List.of(Map.of()), g.combinations());
    }

    @Test
    void malformedAxesAreOneLineErrors() {
        for (String bad : List.of("lora.r", "=4", "lora.r=4,,8", "lora.r=4; lora.r=8", "lora.targets=[qkv]|")) {
            LoraException e = assertThrows(LoraException.class, () -> GridSpec.parse(bad, Set.of()), bad);
            assertTrue(e.getMessage().startsWith("--grid: "), e.getMessage());
        }
    }
}
