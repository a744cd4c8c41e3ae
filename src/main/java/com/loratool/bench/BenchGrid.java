package com.loratool.bench;

import com.loratool.LoraException;
import com.loratool.config.GridSpec;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A benchmark grid: {@code "batch=4,8; scale=10,12; images=11,29; targets=qkv|qkv,linear"}.
 *
 * <p>Axes are separated by {@code ;}, values by {@code ,}; an axis whose values themselves hold
 * commas (targets) separates values by {@code |}. Axes: {@code batch}, {@code scale} (the study's
 * image scale, width = 14 * scale), {@code size} ({@code HxW}, e.g. {@code 84x140}),
 * {@code images}, {@code targets}, {@code rank}, {@code arch}. An axis left out takes the base
 * settings' value. The grid {@code study} is the original study's five configurations: the
 * baseline (batch 4, 84x140, 11 images, qkv) and one factor changed at a time (batch 8, 98x168,
 * 29 images, qkv + linear). Several grids may be joined with {@code +}: their combinations are
 * concatenated, duplicates dropped.
 */
public final class BenchGrid {
    public static final String STUDY = "study";
    /** The study as a union of one-factor grids over the baseline. */
    public static final String STUDY_GRIDS = "batch=4 + batch=8 + scale=12 + images=29 + targets=qkv,linear";
    private static final List<String> AXES = List.of("arch", "batch", "scale", "size", "images", "targets", "rank");

    private final List<Map<String, List<String>>> grids;

    private BenchGrid(List<Map<String, List<String>>> grids) {
        this.grids = grids;
    }

    /** Parses a grid ({@link GridSpec}, the sweep's syntax, with the benchmark's axes); errors read {@code --grid: <problem>}. */
    public static BenchGrid parse(String text) {
        String t = text == null ? "" : text.trim();
        if (t.equalsIgnoreCase(STUDY)) {
            t = STUDY_GRIDS;
        }
        List<Map<String, List<String>>> grids = new ArrayList<>();
        for (List<GridSpec.Axis> spec : GridSpec.parse(t, Set.of("targets")).grids()) {
            grids.add(checked(spec));
        }
        return new BenchGrid(grids);
    }

    private static Map<String, List<String>> checked(List<GridSpec.Axis> spec) {
        Map<String, List<String>> axes = new LinkedHashMap<>();
        for (GridSpec.Axis a : spec) {
            String name = a.key().toLowerCase();
            if (!AXES.contains(name)) {
                throw new LoraException("--grid: unknown axis '" + name + "' (axes: " + String.join(", ", AXES) + ")");
            }
            if (axes.containsKey(name)) {
                throw new LoraException("--grid: axis '" + name + "' given twice");
            }
            if (name.equals("scale") && axes.containsKey("size") || name.equals("size") && axes.containsKey("scale")) {
                throw new LoraException("--grid: give scale or size, not both");
            }
            for (String v : a.values()) {
                check(name, v);
            }
            axes.put(name, a.values());
        }
        return axes;
    }

    private static void check(String axis, String v) {
        switch (axis) {
            case "batch", "scale", "images", "rank" -> {
                int n;
                try {
                    n = Integer.parseInt(v);
                } catch (NumberFormatException e) {
                    throw new LoraException("--grid: " + axis + " must be a whole number, got '" + v + "'");
                }
                if (n < 1) {
                    throw new LoraException("--grid: " + axis + " must be >= 1, got " + n);
                }
            }
            case "size" -> {
                int[] hw = parseSize(v);
                if (hw[0] % 14 != 0 || hw[1] % 14 != 0) {
                    throw new LoraException("--grid: size " + v + " must be multiples of 14 (e.g. 84x140)");
                }
            }
            case "targets" -> {
                for (String t : v.split(",")) {
                    if (t.isBlank()) {
                        throw new LoraException("--grid: targets '" + v + "' has an empty name");
                    }
                }
            }
            default -> { }
        }
    }

    private static int[] parseSize(String v) {
        String[] p = v.toLowerCase().split("x");
        try {
            if (p.length == 2) {
                int h = Integer.parseInt(p[0].trim());
                int w = Integer.parseInt(p[1].trim());
                if (h > 0 && w > 0) {
                    return new int[] {h, w};
                }
            }
        } catch (NumberFormatException e) {
            // fall through
        }
        throw new LoraException("--grid: size must be HxW (e.g. 84x140), got '" + v + "'");
    }

    /** Every combination (first axis slowest), with axes not in the grid taken from {@code base}. */
    public List<BenchSettings> combinations(BenchSettings base) {
        Set<BenchSettings> out = new LinkedHashSet<>();
        for (Map<String, List<String>> axes : grids) {
            List<BenchSettings> acc = new ArrayList<>(List.of(base));
            for (Map.Entry<String, List<String>> axis : axes.entrySet()) {
                List<BenchSettings> next = new ArrayList<>();
                for (BenchSettings s : acc) {
                    for (String v : axis.getValue()) {
                        next.add(with(s, axis.getKey(), v));
                    }
                }
                acc = next;
            }
            out.addAll(acc);
        }
        return List.copyOf(out);
    }

    static BenchSettings with(BenchSettings s, String axis, String v) {
        return switch (axis) {
            case "arch" -> new BenchSettings(v, s.batch(), s.height(), s.width(), s.scale(), s.images(), s.targets(), s.rank());
            case "batch" -> new BenchSettings(s.arch(), Integer.parseInt(v), s.height(), s.width(), s.scale(), s.images(), s.targets(), s.rank());
            case "scale" -> {
                int sc = Integer.parseInt(v);
                int[] hw = BenchSettings.sizeOfScale(sc);
                yield new BenchSettings(s.arch(), s.batch(), hw[0], hw[1], sc, s.images(), s.targets(), s.rank());
            }
            case "size" -> {
                int[] hw = parseSize(v);
                yield new BenchSettings(s.arch(), s.batch(), hw[0], hw[1], 0, s.images(), s.targets(), s.rank());
            }
            case "images" -> new BenchSettings(s.arch(), s.batch(), s.height(), s.width(), s.scale(), Integer.parseInt(v), s.targets(), s.rank());
            case "targets" -> new BenchSettings(s.arch(), s.batch(), s.height(), s.width(), s.scale(), s.images(),
                    Arrays.stream(v.split(",")).map(String::trim).toList(), s.rank());
            case "rank" -> new BenchSettings(s.arch(), s.batch(), s.height(), s.width(), s.scale(), s.images(), s.targets(), Integer.parseInt(v));
            default -> throw new IllegalArgumentException(axis);
        };
    }

    /** The study's baseline: vits, batch 4, scale 10 (84x140), 11 images, qkv, r = 8. */
    public static BenchSettings studyBaseline() {
        return new BenchSettings("vits", 4, 84, 140, 10, 11, List.of("qkv"), 8);
    }
}
