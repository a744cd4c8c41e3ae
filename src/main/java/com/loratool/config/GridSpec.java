package com.loratool.config;

import com.loratool.LoraException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The one grid syntax of {@code lora benchmark --grid} and {@code lora sweep --grid}:
 * {@code "lora.r=4,8; lora.targets=[qkv]|[qkv,proj]; train.lr=1e-4,3e-4 + lora.r=16"}.
 *
 * <p>Axes are separated by {@code ;}, an axis is {@code key=values}. Values are separated by
 * {@code |} when the axis holds one, else by {@code ,} outside brackets (so {@code [qkv,proj]} is
 * one value); an axis in {@code listAxes} (the benchmark's {@code targets=qkv,linear}) takes a
 * body without {@code |} as one value. Several grids are joined with {@code +}: their combinations
 * are concatenated, duplicates dropped. Which keys exist is the caller's business (the benchmark's
 * axes, or any run-config key for the sweep); this class only reads the structure. Errors read
 * {@code --grid: <problem>}.
 */
public final class GridSpec {
    /** One axis: a key and its alternatives, in the order given. */
    public record Axis(String key, List<String> values) {}

    private final List<List<Axis>> grids;

    private GridSpec(List<List<Axis>> grids) {
        this.grids = grids;
    }

    /** A blank text is one grid with no axis (one combination: the base). */
    public static GridSpec parse(String text, Set<String> listAxes) {
        if (text == null || text.isBlank()) {
            return new GridSpec(List.of(List.of()));
        }
        List<List<Axis>> grids = new ArrayList<>();
        for (String part : splitTop(text.trim(), '+')) {
            grids.add(parseOne(part, listAxes));
        }
        return new GridSpec(List.copyOf(grids));
    }

    /** The grids joined with {@code +}, each a list of axes. */
    public List<List<Axis>> grids() {
        return grids;
    }

    /** Whether no grid has an axis. */
    public boolean isEmpty() {
        return grids.stream().allMatch(List::isEmpty);
    }

    /** Every distinct key of every grid. */
    public Set<String> keys() {
        Set<String> k = new LinkedHashSet<>();
        grids.forEach(g -> g.forEach(a -> k.add(a.key())));
        return k;
    }

    /** Every combination (key to value, first axis slowest), grids concatenated, duplicates dropped. */
    public List<Map<String, String>> combinations() {
        Set<Map<String, String>> out = new LinkedHashSet<>();
        for (List<Axis> axes : grids) {
            List<Map<String, String>> acc = new ArrayList<>();
            acc.add(new LinkedHashMap<>());
            for (Axis axis : axes) {
                List<Map<String, String>> next = new ArrayList<>();
                for (Map<String, String> c : acc) {
                    for (String v : axis.values()) {
                        Map<String, String> m = new LinkedHashMap<>(c);
                        m.put(axis.key(), v);
                        next.add(m);
                    }
                }
                acc = next;
            }
            for (Map<String, String> c : acc) {
                out.add(Collections.unmodifiableMap(c));
            }
        }
        return List.copyOf(out);
    }

    /** How many combinations before duplicates are dropped (the product of each grid's axis sizes, summed). */
    public long size() {
        long n = 0;
        for (List<Axis> g : grids) {
            long p = 1;
            for (Axis a : g) {
                p = Math.multiplyExact(p, a.values().size());
            }
            n += p;
        }
        return n;
    }

    private static List<Axis> parseOne(String text, Set<String> listAxes) {
        Map<String, Axis> axes = new LinkedHashMap<>();
        for (String raw : splitTop(text, ';')) {
            String axis = raw.trim();
            if (axis.isEmpty()) {
                continue;
            }
            int eq = axis.indexOf('=');
            if (eq <= 0) {
                throw new LoraException("--grid: '" + axis + "' is not key=values (e.g. lora.r=4,8)");
            }
            String key = axis.substring(0, eq).trim();
            if (axes.containsKey(key)) {
                throw new LoraException("--grid: axis '" + key + "' given twice");
            }
            String body = axis.substring(eq + 1).trim();
            List<String> parts;
            if (!splitTop(body, '|').equals(List.of(body))) {
                parts = splitTop(body, '|');
            } else if (listAxes.contains(key)) {
                parts = List.of(body);
            } else {
                parts = splitTop(body, ',');
            }
            List<String> values = new ArrayList<>();
            for (String v : parts) {
                String value = v.trim();
                if (value.isEmpty()) {
                    throw new LoraException("--grid: axis '" + key + "' has an empty value in '" + body + "'");
                }
                values.add(value);
            }
            axes.put(key, new Axis(key, List.copyOf(values)));
        }
        return List.copyOf(axes.values());
    }

    /**
     * Splits on {@code sep} outside brackets and braces; a {@code +} right after a number's
     * exponent ({@code 1e+4}) is part of the number.
     */
    static List<String> splitTop(String s, char sep) {
        List<String> out = new ArrayList<>();
        int depth = 0;
        int start = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '[' || c == '{') {
                depth++;
            } else if ((c == ']' || c == '}') && depth > 0) {
                depth--;
            } else if (c == sep && depth == 0 && !(sep == '+' && exponent(s, i))) {
                out.add(s.substring(start, i));
                start = i + 1;
            }
        }
        out.add(s.substring(start));
        return out;
    }

    private static boolean exponent(String s, int plus) {
        return plus >= 2 && (s.charAt(plus - 1) == 'e' || s.charAt(plus - 1) == 'E')
                && Character.isDigit(s.charAt(plus - 2)) && plus + 1 < s.length() && Character.isDigit(s.charAt(plus + 1));
    }
}
