package com.loratool.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

class SplitFoldTest {
    private static List<Pair> pairs(int n) {
        List<Pair> p = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            String stem = String.format("img%02d", i);
            p.add(new Pair(stem, Path.of(stem + ".png"), Path.of(stem + ".npy")));
        }
        return p;
    }

    @Test
    void everyPairIsHeldOutExactlyOnceAndTrainsInTheOtherFolds() {
        List<Pair> all = pairs(13);
        int k = 5;
        Map<String, Integer> heldOut = new HashMap<>();
        for (int f = 0; f < k; f++) {
            Split s = Split.fold(all, k, f, 7);
            assertTrue(s.val().size() == 2 || s.val().size() == 3, "fold sizes 13/5: 2 or 3, got " + s.val().size());
            assertEquals(13, s.train().size() + s.val().size());
            Set<String> train = new HashSet<>();
            s.train().forEach(p -> train.add(p.stem()));
            for (Pair p : s.val()) {
                assertTrue(!train.contains(p.stem()), p.stem() + " both trained on and held out");
                heldOut.merge(p.stem(), 1, Integer::sum);
            }
        }
        assertEquals(13, heldOut.size());
        heldOut.forEach((stem, n) -> assertEquals(1, n, stem));
    }

    @Test
    void deterministicForASeedAndIndependentOfInputOrder() {
        List<Pair> all = pairs(10);
        List<Pair> reversed = new ArrayList<>(all);
        Collections.reverse(reversed);
        for (int f = 0; f < 3; f++) {
            assertEquals(Split.fold(all, 3, f, 1).val(), Split.fold(reversed, 3, f, 1).val());
        }
        boolean differs = false;
        for (int f = 0; f < 3; f++) {
            differs |= !Split.fold(all, 3, f, 1).val().equals(Split.fold(all, 3, f, 2).val());
        }
        assertTrue(differs, "another seed assigns other folds");
    }

    @Test
    void positionModuloK() {
        // the documented rule: sorted by stem, shuffled with Random(seed), position i in fold i % k
        List<Pair> order = new ArrayList<>(pairs(6));
        Collections.shuffle(order, new Random(3));
        Split s = Split.fold(pairs(6), 2, 1, 3);
        assertEquals(Set.of(order.get(1), order.get(3), order.get(5)), Set.copyOf(s.val()));
    }

    @Test
    void kOutOfRangeIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> Split.fold(pairs(3), 4, 0, 0));
        assertThrows(IllegalArgumentException.class, () -> Split.fold(pairs(3), 1, 0, 0));
    }
}
