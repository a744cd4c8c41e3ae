package com.loratool.eval;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.loratool.LoraException;
import com.loratool.io.Npy;
import com.loratool.io.NpyArray;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.opencv.core.Mat;
import org.opencv.imgcodecs.Imgcodecs;

/**
 * Image / depth pairs for evaluation at the files' full resolution: {@code <data>/images/} and
 * {@code <data>/depth/} matched by stem after removing the camera-export suffixes
 * ({@code _color}, {@code _rawDepth}, ...). Depth is a {@code .npy}: H x W x 3 XYZ (Z = channel
 * 2) or H x W Z, in mm, NaN / non-positive where nothing was measured.
 */
public final class EvalDataset {
    private static final String[] IMAGE_EXT = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff"};
    private static final String[] SUFFIXES = {"_color", "_colour", "_rgb", "_image", "_rawdepth", "_depth", "_xyz",
        "_pointcloud", "_z"};

    /** One pair of files. */
    public record Pair(String name, Path image, Path depth) {}

    private EvalDataset() {}

    static String key(Path p) {
        String n = p.getFileName().toString();
        int dot = n.lastIndexOf('.');
        String s = (dot > 0 ? n.substring(0, dot) : n);
        String low = s.toLowerCase(Locale.ROOT);
        for (String suf : SUFFIXES) {
            if (low.endsWith(suf)) {
                return s.substring(0, s.length() - suf.length());
            }
        }
        return s;
    }

    private static List<Path> list(Path dir, String... ext) {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(Files::isRegularFile).filter(p -> {
                String n = p.getFileName().toString().toLowerCase(Locale.ROOT);
                for (String e : ext) {
                    if (n.endsWith(e)) {
                        return true;
                    }
                }
                return false;
            }).sorted().toList();
        } catch (IOException e) {
            throw LoraException.file(dir, "cannot list: " + e.getMessage(), e);
        }
    }

    /** All pairs of {@code data}, by name. */
    public static List<Pair> pairs(Path data) {
        Path images = data.resolve("images");
        Path depth = data.resolve("depth");
        if (!Files.isDirectory(images) || !Files.isDirectory(depth)) {
            throw LoraException.file(data, "expected images/ and depth/ folders");
        }
        Map<String, Path> byKey = new TreeMap<>();
        for (Path d : list(depth, ".npy")) {
            byKey.put(key(d), d);
        }
        List<Pair> out = new ArrayList<>();
        for (Path i : list(images, IMAGE_EXT)) {
            Path d = byKey.get(key(i));
            if (d != null) {
                out.add(new Pair(key(i), i, d));
            }
        }
        if (out.isEmpty()) {
            throw LoraException.file(data, "no image/depth pairs (images/<name>.png with depth/<name>.npy)");
        }
        return out;
    }

    /**
     * Keeps the pairs of one side of the run's split ({@code split.json}: lists {@code train} and
     * {@code val}, entries are file names, paths or objects with an {@code image} field). "all"
     * keeps everything.
     */
    public static List<Pair> select(List<Pair> pairs, Path splitJson, String split) {
        if (split.equals("all")) {
            return pairs;
        }
        if (splitJson == null || !Files.isRegularFile(splitJson)) {
            throw new LoraException("--split " + split + ": the run has no split.json (use --split all)");
        }
        JsonNode root;
        try {
            root = new ObjectMapper().readTree(splitJson.toFile());
        } catch (IOException e) {
            throw LoraException.file(splitJson, "not valid JSON: " + e.getMessage(), e);
        }
        JsonNode list = root.get(split);
        if (list == null && split.equals("val")) {
            list = root.get("validation");
        }
        if (list == null || !list.isArray()) {
            throw LoraException.file(splitJson, "has no '" + split + "' list");
        }
        Set<String> keys = new HashSet<>();
        for (JsonNode e : list) {
            String s = e.isTextual() ? e.asText() : e.path("image").asText(e.path("name").asText(""));
            if (!s.isEmpty()) {
                keys.add(key(Path.of(s)));
            }
        }
        List<Pair> out = pairs.stream().filter(p -> keys.contains(key(p.image()))).toList();
        if (out.isEmpty()) {
            throw LoraException.file(splitJson, "none of its '" + split + "' files are in the data folder");
        }
        return out;
    }

    /** Reads one pair: 8-bit BGR image and Z (mm) of the same size. */
    public static EvalSample load(Pair p) {
        Mat img = Imgcodecs.imread(p.image().toString(), Imgcodecs.IMREAD_COLOR);
        if (img.empty()) {
            throw LoraException.file(p.image(), "cannot read the image (missing, unsupported or corrupt)");
        }
        NpyArray a = Npy.read(p.depth());
        long[] s = a.shape();
        float[] z;
        if (s.length == 3 && s[2] == 3) {
            z = new float[(int) (s[0] * s[1])];
            for (int i = 0; i < z.length; i++) {
                z[i] = a.data()[3 * i + 2];
            }
        } else if (s.length == 2) {
            z = a.data();
        } else {
            throw LoraException.file(p.depth(), "expected H x W or H x W x 3 (XYZ), got shape " + Arrays.toString(s));
        }
        if (s[0] != img.rows() || s[1] != img.cols()) {
            throw LoraException.file(p.depth(), "is " + s[1] + "x" + s[0] + " but the image is " + img.cols() + "x" + img.rows());
        }
        return new EvalSample(p.name(), p.image(), img, z);
    }
}
