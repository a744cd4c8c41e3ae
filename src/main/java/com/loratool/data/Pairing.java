package com.loratool.data;

import com.loratool.LoraException;
import com.loratool.config.DataConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * Matches {@code <root>/<images_dir>/} files with {@code <root>/<depth_dir>/} files by stem:
 * the file name without extension, minus the longest configured suffix that it ends with
 * ({@code 21-12-03_Zivid_acquisition_color.png} and {@code 21-12-03_Zivid_acquisition_rawDepth.npy}
 * both have stem {@code 21-12-03}). Pairs come sorted by stem.
 */
public final class Pairing {
    /** The image files every command reads (OpenCV decodes them all): pairing, predict, eval. */
    public static final List<String> IMAGE_EXTENSIONS =
            List.of("png", "jpg", "jpeg", "bmp", "tif", "tiff", "webp", "ppm", "pgm", "jp2");
    public static final Set<String> DEPTH_EXTENSIONS = Set.of("npy", "npz", "tif", "tiff", "png");

    /** The pairs, plus files with no partner and stems seen twice in one folder. */
    public record Result(List<Pair> pairs, List<Path> unpaired, List<String> duplicates) {
        /** One line describing unpaired and duplicate files, or empty. */
        public String problems() {
            StringBuilder sb = new StringBuilder();
            if (!unpaired.isEmpty()) {
                sb.append(unpaired.size()).append(" unpaired file(s): ");
                sb.append(String.join(", ", unpaired.stream().map(p -> p.getFileName().toString()).toList()));
            }
            if (!duplicates.isEmpty()) {
                if (sb.length() > 0) {
                    sb.append("; ");
                }
                sb.append("duplicate stems: ").append(String.join(", ", duplicates));
            }
            return sb.toString();
        }
    }

    private Pairing() {}

    /** Stem of a file name: extension removed, then the longest matching suffix. */
    public static String stem(String fileName, List<String> suffixes) {
        int dot = fileName.lastIndexOf('.');
        String base = dot > 0 ? fileName.substring(0, dot) : fileName;
        String best = null;
        for (String s : suffixes) {
            if (!s.isEmpty() && base.endsWith(s) && base.length() > s.length()
                    && (best == null || s.length() > best.length())) {
                best = s;
            }
        }
        return best == null ? base : base.substring(0, base.length() - best.length());
    }

    /** Pairs files in the configured folders. Errors: missing folder, nothing to pair, strict mode. */
    public static Result pair(DataConfig config) {
        Path root = config.rootPath();
        if (!Files.isDirectory(root)) {
            throw LoraException.file(root, "data folder not found");
        }
        Path imgDir = root.resolve(config.imagesDir());
        Path depDir = root.resolve(config.depthDir());
        for (Path d : List.of(imgDir, depDir)) {
            if (!Files.isDirectory(d)) {
                throw LoraException.file(d, "folder not found (expected " + config.imagesDir() + "/ and "
                        + config.depthDir() + "/ under " + root + ")");
            }
        }
        List<String> duplicates = new ArrayList<>();
        Map<String, Path> images = index(imgDir, IMAGE_EXTENSIONS, config.stripSuffixes(), duplicates);
        Map<String, Path> depths = index(depDir, DEPTH_EXTENSIONS, config.stripSuffixes(), duplicates);
        if (images.isEmpty()) {
            throw LoraException.file(imgDir, "no images (png, jpg, bmp, tif) in this folder");
        }
        if (depths.isEmpty()) {
            throw LoraException.file(depDir, "no depth files (npy, npz, tif, png) in this folder");
        }
        List<Pair> pairs = new ArrayList<>();
        List<Path> unpaired = new ArrayList<>();
        for (var e : images.entrySet()) {
            Path d = depths.get(e.getKey());
            if (d == null) {
                unpaired.add(e.getValue());
            } else {
                pairs.add(new Pair(e.getKey(), e.getValue(), d));
            }
        }
        for (var e : depths.entrySet()) {
            if (!images.containsKey(e.getKey())) {
                unpaired.add(e.getValue());
            }
        }
        Result result = new Result(List.copyOf(pairs), List.copyOf(unpaired), List.copyOf(duplicates));
        if (pairs.isEmpty()) {
            throw LoraException.file(root, "no image/depth pairs (stems differ; " + result.problems() + ")");
        }
        if (config.strict() && (!unpaired.isEmpty() || !duplicates.isEmpty())) {
            throw LoraException.file(root, result.problems() + " (strict: true)");
        }
        return result;
    }

    private static Map<String, Path> index(Path dir, Collection<String> exts, List<String> suffixes, List<String> dups) {
        Map<String, Path> out = new TreeMap<>();
        List<Path> files;
        try (Stream<Path> s = Files.list(dir)) {
            files = s.filter(Files::isRegularFile)
                    .filter(p -> exts.contains(extension(p)))
                    .sorted(Comparator.comparing(Path::toString))
                    .toList();
        } catch (IOException e) {
            throw LoraException.file(dir, "cannot list folder (" + e.getMessage() + ")", e);
        }
        for (Path f : files) {
            String st = stem(f.getFileName().toString(), suffixes);
            if (out.putIfAbsent(st, f) != null) {
                dups.add(dir.getFileName() + "/" + st);
            }
        }
        return out;
    }

    static String extension(Path p) {
        String n = p.getFileName().toString();
        int dot = n.lastIndexOf('.');
        return dot < 0 ? "" : n.substring(dot + 1).toLowerCase(Locale.ROOT);
    }
}
