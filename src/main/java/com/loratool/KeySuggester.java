package com.loratool;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;

/** Finds the valid key closest to a mistyped one (Levenshtein distance), for "did you mean" hints. */
public final class KeySuggester {
    private KeySuggester() {}

    /** The closest candidate, or null when none is plausibly what was meant. */
    public static String closest(String wrong, Collection<String> candidates) {
        String best = null;
        int bestDistance = Integer.MAX_VALUE;
        for (String c : candidates) {
            int d = distance(wrong.toLowerCase(), c.toLowerCase());
            if (d < bestDistance) {
                bestDistance = d;
                best = c;
            }
        }
        if (best == null) {
            return null;
        }
        // A hint only when the edit is small compared with the word.
        return bestDistance <= Math.max(2, best.length() / 2) ? best : null;
    }

    /**
     * Up to {@code max} candidates plausibly meant by {@code wrong} (the rule of {@link #closest}),
     * nearest first; empty when none is.
     */
    public static List<String> near(String wrong, Collection<String> candidates, int max) {
        record Scored(String name, int distance) {}
        List<Scored> scored = new ArrayList<>();
        for (String c : candidates) {
            int d = distance(wrong.toLowerCase(), c.toLowerCase());
            if (d <= Math.max(2, c.length() / 2)) {
                scored.add(new Scored(c, d));
            }
        }
        scored.sort(Comparator.comparingInt(Scored::distance).thenComparing(Scored::name));
        return scored.stream().limit(max).map(Scored::name).toList();
    }

    /** "unknown key, did you mean lr?" or "unknown key (valid: a, b, c)". */
    public static String unknownKeyMessage(String wrong, Collection<String> candidates) {
        String hint = closest(wrong, candidates);
        if (hint != null) {
            return "unknown key, did you mean " + hint + "?";
        }
        return "unknown key (valid keys: " + String.join(", ", candidates) + ")";
    }

    static int distance(String a, String b) {
        int[] prev = new int[b.length() + 1];
        int[] cur = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            prev[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            cur[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + cost);
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[b.length()];
    }
}
