package com.loratool.lora;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import com.loratool.LoraException;
import com.loratool.config.LoraConfig;
import com.loratool.io.HostTensor;
import com.loratool.model.nn.Linear;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Hand-computed cases for qkv slices, DoRA and per-layer ranks on a fused qkv weight of 6 rows
 * (q rows 0-1, k rows 2-3, v rows 4-5) and 4 inputs, rank 1.
 */
class SliceDoraPatternTest {
    static final String QKV = "pretrained.blocks.0.attn.qkv";

    /** W (6, 4): row i is (i, 10 + i, 20 + i, 30 + i). */
    static HostTensor fused() {
        float[] w = new float[24];
        for (int o = 0; o < 6; o++) {
            for (int i = 0; i < 4; i++) {
                w[o * 4 + i] = 10 * i + o;
            }
        }
        return new HostTensor(new long[] {6, 4}, w);
    }

    static HostTensor t(long[] shape, float... v) {
        return new HostTensor(shape, v);
    }

    @Test
    void sliceNamesAndRows() {
        QkvSlice v = QkvSlice.parse(QKV + ".v");
        assertEquals(new QkvSlice(QKV, 2), v);
        assertNull(QkvSlice.parse(QKV));
        assertNull(QkvSlice.parse("pretrained.blocks.0.attn.proj.q"));
        assertEquals(QKV, QkvSlice.moduleOf(QKV + ".k"));
        assertEquals(4, v.offset(6));
        assertArrayEquals(new float[] {4, 14, 24, 34, 5, 15, 25, 35}, v.rows(fused()).data());
    }

    /** v slice, A = (1, 0, 2, 0), B = (1, 2)^T, scaling 0.5: rows 4 and 5 gain 0.5 B A, the rest stay. */
    @Test
    void sliceMergeTouchesOnlyItsRows() {
        LoraPair p = new LoraPair(t(new long[] {1, 4}, 1, 0, 2, 0), t(new long[] {2, 1}, 1, 2));
        HostTensor m = p.mergeIntoModule(QKV + ".v", fused(), 0.5);
        float[] want = fused().data().clone();
        // row 4 += 0.5 * 1 * (1, 0, 2, 0); row 5 += 0.5 * 2 * (1, 0, 2, 0)
        want[16] += 0.5f; want[18] += 1f;
        want[20] += 1f;   want[22] += 2f;
        assertArrayEquals(want, m.data());
        assertArrayEquals(new long[] {6, 4}, p.moduleWeightShape(QKV + ".v"));
        assertArrayEquals(new long[] {2, 4}, p.moduleWeightShape("pretrained.blocks.0.attn.proj"));
    }

    /**
     * DoRA on the q slice with its block replaced by rows (0, 3, 0, 0) and (1, 0, 0, 0):
     * A = (0, 0, 0, 2), B = (4, 0)^T, scaling 0.5 give s B A = rows (0, 0, 0, 4) and 0, so
     * W + s B A has rows (0, 3, 0, 4) (norm 5) and (1, 0, 0, 0) (norm 1); with m = (10, 2) the
     * merged rows are (0, 6, 0, 8) and (2, 0, 0, 0). The initial magnitude is ||W|| = (3, 1).
     */
    @Test
    void doraMergeIsMagnitudeTimesTheNormalisedDirection() {
        QkvSlice q = new QkvSlice(QKV, 0);
        HostTensor w = q.withRows(fused(), t(new long[] {2, 4}, 0, 3, 0, 0, 1, 0, 0, 0));
        assertArrayEquals(new float[] {3, 1}, LoraPair.rowNorms(q.rows(w)).data());
        LoraPair p = new LoraPair(t(new long[] {1, 4}, 0, 0, 0, 2), t(new long[] {2, 1}, 4, 0), t(new long[] {2}, 10, 2));
        HostTensor m = p.mergeIntoModule(q.name(), w, 0.5);
        float[] want = w.data().clone();
        System.arraycopy(new float[] {0, 6, 0, 8, 2, 0, 0, 0}, 0, want, 0, 8);
        assertArrayEquals(want, m.data());
        assertThrows(IllegalStateException.class, () -> p.delta(0.5));
        assertThrows(IllegalArgumentException.class,
                () -> new LoraPair(p.a(), p.b(), t(new long[] {3}, 1, 1, 1)));
    }

    /**
     * The DoRA forward on the same case, x = (1, 1, 1, 1): output delta = (m / n)(W x + s B A x) - W x
     * = (2 * 7 - 3, 2 * 1 - 1) = (11, 1); the gradient of its sum with respect to B, with the
     * norm detached (PEFT), is (m / n) s (A x) = (2 * 0.5 * 2, 2 * 0.5 * 2) = (2, 2) and with respect
     * to m it is (W x + s B A x) / n = (7 / 5, 1).
     */
    @Test
    void doraForwardAndItsGradientWithTheNormDetached() {
        LoraConfig cfg = LoraConfig.defaults().with(Map.of("r", 1, "alpha", 0.5, "dora", true));
        try (NDManager m = NDManager.newBaseManager()) {
            Linear lin = new Linear(m, 4, 6);
            QkvSlice q = new QkvSlice(QKV, 0);
            HostTensor w = q.withRows(fused(), t(new long[] {2, 4}, 0, 3, 0, 0, 1, 0, 0, 0));
            lin.weight().array().set(w.data());
            LoraLinear l = new LoraLinear(q.name(), lin, q, LoraScaling.of(cfg, q.name()), cfg, 0, m);
            assertArrayEquals(new float[] {3, 1}, l.magnitude().data()); // initialised to ||W||
            l.load(new LoraPair(t(new long[] {1, 4}, 0, 0, 0, 2), t(new long[] {2, 1}, 4, 0), t(new long[] {2}, 10, 2)));
            assertEquals(3, l.trainable().size());
            try (NDManager step = m.newSubManager()) {
                NDArray x = step.ones(new Shape(1, 4));
                try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                    NDArray y = l.delta(x);
                    assertArrayEquals(new float[] {11, 1}, y.toFloatArray(), 1e-5f);
                    gc.backward(y.sum());
                }
                NDArray gB = l.trainable().get(1).getGradient(); // B^T (1, 2)
                assertArrayEquals(new float[] {2, 2}, gB.toFloatArray(), 1e-5f);
                NDArray gM = l.trainable().get(2).getGradient();
                assertArrayEquals(new float[] {7f / 5, 1}, gM.toFloatArray(), 1e-5f);
            }
        }
    }

    /** PEFT's get_pattern_key: (.*\.)?(key) over the whole name, first key wins, dots as segment boundaries. */
    @Test
    void rankAndAlphaPatternsFollowPeft() {
        Map<String, Integer> rankPattern = new LinkedHashMap<>();
        rankPattern.put("blocks\\.[01]\\.attn\\.qkv\\.[qv]", 16);
        rankPattern.put("blocks.3.attn.qkv.q", 4);
        rankPattern.put("pretrained.blocks.3.attn.qkv.q", 2); // never reached: the key above matches first
        LoraConfig c = LoraConfig.defaults().with(Map.of("r", 8, "alpha", 8, "rank_pattern", rankPattern,
                "alpha_pattern", Map.of("v", 32.0)));
        assertEquals(new LoraScaling(16, 8, false), LoraScaling.of(c, "pretrained.blocks.1.attn.qkv.q"));
        assertEquals(new LoraScaling(16, 32, false), LoraScaling.of(c, "pretrained.blocks.0.attn.qkv.v"));
        assertEquals(new LoraScaling(4, 8, false), LoraScaling.of(c, "pretrained.blocks.3.attn.qkv.q"));
        assertEquals(new LoraScaling(8, 8, false), LoraScaling.of(c, "pretrained.blocks.2.attn.qkv.q"));
        assertEquals(new LoraScaling(8, 8, false), LoraScaling.of(c, "pretrained.blocks.13.attn.qkv.q"));
        assertEquals(new LoraScaling(8, 8, false), LoraScaling.of(c, "pretrained.blocks.2.attn.qkv")); // "v" is not a segment
        rankPattern.put("blocks.(", 3);
        LoraException e = assertThrows(LoraException.class, () -> c.with("rank_pattern", rankPattern));
        assertTrue(e.getMessage().startsWith("lora.rank_pattern: bad regular expression 'blocks.('"), e.getMessage());
    }

    @Test
    void sliceTargetsAreCheckedOneLine() {
        LoraException e = assertThrows(LoraException.class, () -> targets("qkv:q,x"));
        assertEquals("lora.targets: 'qkv:q,x': 'x' is not q, k or v (write e.g. qkv:q,v)", e.getMessage());
        assertEquals(List.of(0, 2), LoraInjector.sliceParts(targets("qkv:v,q")));
        assertThrows(LoraException.class, () -> targets("qkv:"));
        assertThrows(LoraException.class, () -> targets("qkv:q,q"));
        assertThrows(LoraException.class, () -> targets("qkv:q", "qkv:q"));
    }

    private static LoraConfig targets(String... targets) {
        return LoraConfig.defaults().with("targets", List.of(targets));
    }
}
