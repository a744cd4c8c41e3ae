package com.loratool.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import com.loratool.LoraException;
import com.loratool.train.optim.Adam;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class LrMultipliersTest {
    @Test
    void moduleNamesPrefixAtADotRegexFindsFirstMatchWins() {
        List<String> names = List.of("pretrained.blocks.0.attn.qkv.lora_A", "depth_head.scratch.output_conv1.weight",
                "depth_head_extra.weight", "depth_head.projects.0.bias");
        Map<String, Double> m = new LinkedHashMap<>();
        m.put("re:depth_head\\.projects\\..*", 3.0);
        m.put("depth_head", 10.0);
        m.put("depth_head_extra", 2.0);
        assertArrayEquals(new double[] {1, 10, 2, 3}, AdapterOptimizer.lrScales(names, m));
        assertNull(AdapterOptimizer.lrScales(names, Map.of()));
        assertNull(AdapterOptimizer.lrScales(names, Map.of("depth_head", 1.0)));
    }

    /**
     * Issue 27, class 5: one grammar, matched by one selector. A key is trimmed like a target
     * (' depth_head' was silently factor 1), a regex compiles with RE2 (Python's (?P<x>...) crashed
     * java.util.regex at training start) and matches whole names, and a key that matches no
     * trainable parameter is an error naming the key and the near names (it was silently 1).
     */
    @Test
    void keysAreParsedLikeTargetsAndAKeyMatchingNothingIsAnError() {
        List<String> names = List.of("pretrained.blocks.0.attn.qkv.lora_A", "depth_head.scratch.output_conv1.weight",
                "depth_head.projects.0.bias");
        assertArrayEquals(new double[] {1, 10, 10}, AdapterOptimizer.lrScales(names, Map.of(" depth_head", 10.0)));
        assertArrayEquals(new double[] {1, 10, 10}, AdapterOptimizer.lrScales(names, Map.of("re:(?P<x>depth_head)", 10.0)));
        LoraException e = assertThrows(LoraException.class,
                () -> AdapterOptimizer.lrScales(names, Map.of("re:(?P<x>head)", 10.0)));
        assertEquals("train.lr_multipliers: 're:(?P<x>head)' matches no trainable parameter (a re: pattern must match"
                + " a whole name; it matches inside depth_head)", e.getMessage());
        e = assertThrows(LoraException.class, () -> AdapterOptimizer.lrScales(names, Map.of("depth_haed", 10.0)));
        assertEquals("train.lr_multipliers: 'depth_haed' matches no trainable parameter (did you mean depth_head?)",
                e.getMessage());
        e = assertThrows(LoraException.class, () -> AdapterOptimizer.lrScales(names, Map.of("neck", 10.0)));
        assertEquals("train.lr_multipliers: 'neck' matches no trainable parameter (trainable modules: pretrained,"
                + " depth_head)", e.getMessage());
    }

    @Test
    void adamsFirstStepMovesEachParameterByItsOwnLearningRate() {
        // first Adam step: m = (1-b1) g, v = (1-b2) g^2; bias-corrected m / sqrt(v) = sign(g): update = lr * sign(g)
        try (NDManager m = NDManager.newBaseManager(); NDManager scratch = m.newSubManager()) {
            NDArray a = m.create(new float[] {1f, 1f});
            NDArray b = m.create(new float[] {1f});
            try (Adam adam = new Adam(false, 0.9, 0.999, 1e-12, 0, m, 3)) {
                adam.step(List.of(a, b), m.create(new float[] {0.5f, -2f, 4f}), 0.1, new double[] {1, 10}, scratch);
            }
            assertArrayEquals(new float[] {0.9f, 1.1f}, a.toFloatArray(), 1e-5f);
            assertEquals(0f, b.toFloatArray()[0], 1e-5f); // 1 - 0.1 * 10
        }
    }
}
