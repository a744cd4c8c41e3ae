package com.loratool.data;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;

/**
 * The one rule for the order of training samples in an epoch: shuffled with
 * {@code Random(seed * 1_000_003 + epoch)}, so the order (and the augmentation drawn from the same
 * generator) is a function of (seed, epoch) alone and a resumed run replays it exactly.
 */
public final class EpochOrder {
    private EpochOrder() {}

    /** The generator of epoch {@code epoch} of a run seeded with {@code seed}. */
    public static Random random(long seed, long epoch) {
        return new Random(seed * 1_000_003L + epoch);
    }

    /** A shuffled copy of {@code items}, drawn from {@code rnd}. */
    public static <T> List<T> shuffled(List<T> items, Random rnd) {
        List<T> out = new ArrayList<>(items);
        Collections.shuffle(out, rnd);
        return out;
    }
}
