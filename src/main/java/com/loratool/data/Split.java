package com.loratool.data;

import com.fasterxml.jackson.databind.JsonNode;
import com.loratool.LoraException;
import com.loratool.io.AtomicFiles;
import com.loratool.io.Json;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

/**
 * A seeded train/validation split. Pairs are sorted by stem, shuffled with
 * {@code java.util.Random(seed)}; the first {@code round(n * val_fraction)} (at least 1 when the
 * fraction is above 0 and n &gt;= 2, at most n-1) are validation, then at most
 * {@code max_train_images} of the rest are training. Both lists come back sorted by stem. The
 * same seed and file list always give the same split.
 */
public record Split(List<Pair> train, List<Pair> val, long seed, double valFraction, int maxTrainImages) {

    public static Split of(List<Pair> pairs, double valFraction, int maxTrainImages, long seed) {
        List<Pair> order = new ArrayList<>(pairs);
        order.sort(Comparator.comparing(Pair::stem));
        Collections.shuffle(order, new Random(seed));
        int n = order.size();
        int nVal = (int) Math.round(n * valFraction);
        if (valFraction > 0 && n >= 2) {
            nVal = Math.max(1, nVal);
        }
        nVal = Math.min(nVal, Math.max(0, n - 1));
        List<Pair> val = new ArrayList<>(order.subList(0, nVal));
        List<Pair> train = new ArrayList<>(order.subList(nVal, n));
        if (maxTrainImages > 0 && train.size() > maxTrainImages) {
            train = new ArrayList<>(train.subList(0, maxTrainImages));
        }
        train.sort(Comparator.comparing(Pair::stem));
        val.sort(Comparator.comparing(Pair::stem));
        return new Split(List.copyOf(train), List.copyOf(val), seed, valFraction, maxTrainImages);
    }

    /**
     * Fold {@code fold} of a seeded k-fold assignment: pairs sorted by stem, shuffled with
     * {@code java.util.Random(seed)} (as {@link #of}); the pair at position i of that order is in
     * fold {@code i % k}. Validation is the held-out fold, training the other k-1 folds (both sorted
     * by stem). Across the k folds every pair is held out exactly once; fold sizes differ by at most
     * one. Needs 2 &lt;= k &lt;= pairs.
     */
    public static Split fold(List<Pair> pairs, int k, int fold, long seed) {
        if (k < 2 || k > pairs.size() || fold < 0 || fold >= k) {
            throw new IllegalArgumentException("fold " + fold + " of " + k + " over " + pairs.size() + " pairs");
        }
        List<Pair> order = new ArrayList<>(pairs);
        order.sort(Comparator.comparing(Pair::stem));
        Collections.shuffle(order, new Random(seed));
        List<Pair> val = new ArrayList<>();
        List<Pair> train = new ArrayList<>();
        for (int i = 0; i < order.size(); i++) {
            (i % k == fold ? val : train).add(order.get(i));
        }
        train.sort(Comparator.comparing(Pair::stem));
        val.sort(Comparator.comparing(Pair::stem));
        return new Split(List.copyOf(train), List.copyOf(val), seed, (double) val.size() / order.size(), 0);
    }

    /** Writes {@code <runDir>/split.json} atomically: seed, settings, train/val stems and files. */
    public Path write(Path runDir) {
        Map<String, Object> root = new LinkedHashMap<>();
        root.put("seed", seed);
        root.put("val_fraction", valFraction);
        root.put("max_train_images", maxTrainImages);
        root.put("train", entries(train));
        root.put("val", entries(val));
        Path f = runDir.resolve("split.json");
        try {
            Files.createDirectories(runDir);
            String json = Json.pretty(root);
            AtomicFiles.writeString(f, json + "\n");
        } catch (IOException e) {
            throw LoraException.file(f, "cannot write (" + e.getMessage() + ")", e);
        }
        return f;
    }

    private static List<Map<String, String>> entries(List<Pair> pairs) {
        List<Map<String, String>> out = new ArrayList<>();
        for (Pair p : pairs) {
            Map<String, String> m = new LinkedHashMap<>();
            m.put("stem", p.stem());
            m.put("image", p.image().toString());
            m.put("depth", p.depth().toString());
            out.add(m);
        }
        return out;
    }

    /**
     * The stems of one side ({@code train} or {@code val}) of a {@code split.json}, in file order:
     * an entry's {@code stem}, else the stem of its {@code image} file name (an entry may be that
     * name alone) under {@code stripSuffixes}. The one reader of split.json (eval's --split, resume).
     */
    public static Set<String> stems(Path splitJson, String side, List<String> stripSuffixes) {
        JsonNode root = Json.readFinite(splitJson);
        JsonNode list = root == null ? null : root.get(side);
        if (list == null || !list.isArray()) {
            throw LoraException.file(splitJson, "has no '" + side + "' list");
        }
        Set<String> stems = new LinkedHashSet<>();
        for (JsonNode e : list) {
            String stem = e.isTextual() ? null : e.path("stem").asText(null);
            String image = e.isTextual() ? e.asText() : e.path("image").asText("");
            if (stem == null && !image.isEmpty()) {
                stem = Pairing.stem(Path.of(image).getFileName().toString(), stripSuffixes);
            }
            if (stem != null) {
                stems.add(stem);
            }
        }
        return stems;
    }

    /**
     * The pairs of one side ({@code train} or {@code val}) of a run's {@code split.json}, matched by
     * stem ({@code stem} field, else the stem of the {@code image} file name under
     * {@code stripSuffixes}); "all" keeps every pair.
     */
    public static List<Pair> side(List<Pair> pairs, Path splitJson, String side, List<String> stripSuffixes) {
        if (side.equals("all")) {
            return pairs;
        }
        if (splitJson == null || !Files.isRegularFile(splitJson)) {
            throw new LoraException("--split " + side + ": the run has no split.json (use --split all)");
        }
        Set<String> stems = stems(splitJson, side, stripSuffixes);
        List<Pair> out = pairs.stream().filter(p -> stems.contains(p.stem())).toList();
        if (out.isEmpty()) {
            throw LoraException.file(splitJson, "none of its '" + side + "' files are in the data folder");
        }
        return out;
    }
}
