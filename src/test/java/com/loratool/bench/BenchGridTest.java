package com.loratool.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.loratool.LoraException;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class BenchGridTest {
    private static final BenchSettings BASE = BenchGrid.studyBaseline();

    @Test
    void crossProductOfAxesFirstAxisSlowest() {
        List<BenchSettings> c = BenchGrid.parse("batch=4,8; scale=10,12; images=11,29; targets=qkv|qkv,linear")
                .combinations(BASE);
        assertEquals(16, c.size());
        BenchSettings first = c.get(0);
        assertEquals(4, first.batch());
        assertEquals(84, first.height());
        assertEquals(140, first.width());
        assertEquals(11, first.images());
        assertEquals(List.of("qkv"), first.targets());
        assertEquals(List.of("qkv", "linear"), c.get(1).targets()); // last axis fastest
        BenchSettings last = c.get(15);
        assertEquals(8, last.batch());
        assertEquals(98, last.height()); // scale 12: 14 * round(7.2) = 98
        assertEquals(168, last.width());
        assertEquals(29, last.images());
        assertEquals(List.of("qkv", "linear"), last.targets());
        assertEquals(16, Set.copyOf(c).size());
    }

    @Test
    void missingAxesKeepTheBaseAndEmptyGridIsTheBase() {
        assertEquals(List.of(BASE), BenchGrid.parse("").combinations(BASE));
        List<BenchSettings> c = BenchGrid.parse(" images = 3 ; size=28x42 ;").combinations(BASE);
        assertEquals(1, c.size());
        assertEquals(new BenchSettings("vits", 4, 28, 42, 0, 3, List.of("qkv"), 8), c.get(0));
    }

    @Test
    void studyIsTheFiveConfigurations() {
        List<BenchSettings> c = BenchGrid.parse("study").combinations(BASE);
        assertEquals(5, c.size());
        assertEquals(BASE, c.get(0));
        assertEquals(8, c.get(1).batch());
        assertEquals("98x168", c.get(2).size());
        assertEquals(29, c.get(3).images());
        assertEquals(List.of("qkv", "linear"), c.get(4).targets());
        // every other one differs from the baseline in exactly one setting
        for (BenchSettings s : c.subList(1, 5)) {
            int diffs = (s.batch() != 4 ? 1 : 0) + (s.width() != 140 ? 1 : 0) + (s.images() != 11 ? 1 : 0)
                    + (!s.targets().equals(List.of("qkv")) ? 1 : 0);
            assertEquals(1, diffs, s.toString());
        }
    }

    @Test
    void unionOfGridsDropsDuplicates() {
        List<BenchSettings> c = BenchGrid.parse("batch=4,8 + batch=8; rank=4 + batch=4").combinations(BASE);
        assertEquals(3, c.size());
        assertEquals(4, c.get(2).rank());
    }

    @Test
    void targetKindsMatchAcrossSpellings() {
        assertEquals(Set.of("qkv", "proj", "fc1", "fc2"), BenchSettings.targetKinds(List.of("qkv", "linear")));
        assertEquals(BenchSettings.targetKinds(List.of("qkv", "proj", "mlp")), BenchSettings.targetKinds(List.of("linear")));
        assertEquals(Set.of("qkv"), BenchSettings.targetKinds(List.of("qkv")));
    }

    @Test
    void badGridsAreOneLineErrors() {
        for (String bad : List.of("batch", "batch=", "batch=4,,8", "batch=0", "batch=x", "colour=red", "size=84", "size=85x140",
                "batch=4; batch=8", "scale=10; size=84x140", "targets=qkv|")) {
            LoraException e = assertThrows(LoraException.class, () -> BenchGrid.parse(bad), bad);
            assertTrue(e.getMessage().startsWith("--grid: "), e.getMessage());
            assertTrue(!e.getMessage().contains("\n"), e.getMessage());
        }
    }
}
