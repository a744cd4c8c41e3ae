package com.loratool.io;

import com.loratool.LoraException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.Path;
import java.util.AbstractMap;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The one check every command makes on its outputs before any work (docs/reliability.md): an output,
 * resolved to its real path (symlinks followed, the missing tail kept), may not be one of the
 * command's inputs (same path, or same file by file key: hard links), may not lie inside an input
 * folder and may not contain an input folder (a command that writes files into its output folder
 * also names those files, {@link #outputFiles}, so an input file there is caught by the same-file rule); and it may
 * not be a training run folder (one holding {@value #RUN_CONFIG} and {@value #RUN_METRICS}) unless the command owns
 * that run.
 *
 * <p>Every file a command reads is an input: named on the command line, found through a run folder or
 * a checkpoint (a model's files: {@code checkpoint.ModelResolver.files}), or given with
 * {@code --align-to}, {@code --intrinsics} and the like.
 *
 * <p>Usage: {@code OutputGuard.of("--output", out).input("--checkpoint", ck).input("--weights", w).check()}.
 * A null path is skipped, so optional options need no {@code if}.
 */
public final class OutputGuard {
    /** What makes a folder a training run's: {@code lora train} writes both. */
    public static final String RUN_CONFIG = "config.yaml";
    public static final String RUN_METRICS = "metrics.csv";

    private final Map<String, Path> outputs = new LinkedHashMap<>();
    private final List<Map.Entry<String, Path>> inputs = new ArrayList<>();
    private final Map<String, List<Path>> outputFiles = new LinkedHashMap<>();
    private final List<Path> ownedRuns = new ArrayList<>();
    private final List<String> folders = new ArrayList<>();

    private OutputGuard() {}

    public static OutputGuard of(String option, Path output) {
        return new OutputGuard().output(option, output);
    }

    public OutputGuard output(String option, Path output) {
        if (output != null) {
            outputs.put(option, output);
        }
        return this;
    }

    /** An output that must be a folder: an existing file there is refused now, not after the work. */
    public static OutputGuard ofFolder(String option, Path output) {
        OutputGuard g = of(option, output);
        g.folders.add(option);
        return g;
    }

    public OutputGuard input(String option, Path input) {
        if (input != null) {
            inputs.add(new AbstractMap.SimpleImmutableEntry<>(option, input));
        }
        return this;
    }

    /** Several inputs of one option (a batch's files, eval's checkpoints). */
    public OutputGuard inputs(String option, Collection<Path> paths) {
        if (paths != null) {
            paths.forEach(p -> input(option, p));
        }
        return this;
    }

    /** Inputs by what they are, e.g. a model's files ({@code "--checkpoint's base weights"} → the file). */
    public OutputGuard inputs(Map<String, Path> labelled) {
        labelled.forEach(this::input);
        return this;
    }

    /**
     * The files a command writes into its output {@code folder} (an option given to {@link #of} or
     * {@link #ofFolder}), e.g. from {@link OutputNames#claim}: none may be an input (same real path or
     * same file). Checked by lookup, so a batch of thousands of files costs little.
     */
    public OutputGuard outputFiles(String folder, Collection<Path> files) {
        outputFiles.computeIfAbsent(folder, k -> new ArrayList<>()).addAll(files);
        return this;
    }

    /** A run folder this command writes itself (train's own run): allowed as or around an output. */
    public OutputGuard owns(Path runDir) {
        if (runDir != null) {
            ownedRuns.add(real(runDir));
        }
        return this;
    }

    /** Throws one line naming the output and the input (or run) it would damage; does nothing else. */
    public void check() {
        // each existing input resolved once, for every output and every output file
        Map<Map.Entry<String, Path>, Path> existing = new LinkedHashMap<>();
        for (Map.Entry<String, Path> i : inputs) {
            if (Files.exists(i.getValue())) { // nothing there to destroy; the command names a missing input itself
                existing.putIfAbsent(i, real(i.getValue()));
            }
        }
        for (Map.Entry<String, Path> o : outputs.entrySet()) {
            Path out = real(o.getValue());
            String outName = o.getKey() + " " + o.getValue();
            if (folders.contains(o.getKey()) && Files.exists(out) && !Files.isDirectory(out)) {
                throw LoraException.file(o.getValue(), o.getKey() + ": exists and is not a folder (give a folder for"
                        + " the results)");
            }
            for (Map.Entry<Map.Entry<String, Path>, Path> e : existing.entrySet()) {
                Map.Entry<String, Path> i = e.getKey();
                Path in = e.getValue();
                String inName = i.getKey() + " " + i.getValue();
                if (out.equals(in) || sameFile(out, in)) {
                    throw LoraException.file(o.getValue(), o.getKey() + " is the input " + inName
                            + "; writing it would destroy the input (choose another " + o.getKey() + ")");
                }
                if (out.startsWith(in) && Files.isDirectory(in)) {
                    throw LoraException.file(o.getValue(), o.getKey() + " lies inside the input " + inName
                            + "; writing there could overwrite the input (choose a folder outside it)");
                }
                if (in.startsWith(out) && Files.isDirectory(in)) {
                    throw LoraException.file(o.getValue(), o.getKey() + " contains the input " + inName
                            + "; writing there could overwrite the input (choose another " + o.getKey() + ")");
                }
            }
            if (isTrainingRun(out) && !ownedRuns.contains(out)) {
                throw LoraException.file(o.getValue(), outName + " is a training run folder (it holds " + RUN_CONFIG
                        + " and " + RUN_METRICS + "); writing there would replace the run's files (choose a sub-folder"
                        + " such as " + o.getValue().resolve("eval") + ", or another folder)");
            }
        }
        checkOutputFiles(existing);
    }

    /** Each output file against every existing input ({@code existing}: its real path): by real path, then (for files that exist) by file key. */
    private void checkOutputFiles(Map<Map.Entry<String, Path>, Path> existing) {
        if (outputFiles.isEmpty()) {
            return;
        }
        Map<Path, Map.Entry<String, Path>> byPath = new HashMap<>();
        Map<Object, Map.Entry<String, Path>> byKey = new HashMap<>();
        for (Map.Entry<Map.Entry<String, Path>, Path> e : existing.entrySet()) {
            Map.Entry<String, Path> i = e.getKey();
            byPath.putIfAbsent(e.getValue(), i);
            Object key = fileKey(i.getValue());
            if (key != null) {
                byKey.putIfAbsent(key, i);
            }
        }
        Map<Path, Path> realFolders = new HashMap<>();
        for (Map.Entry<String, List<Path>> o : outputFiles.entrySet()) {
            for (Path f : o.getValue()) {
                Path abs = f.toAbsolutePath().normalize();
                boolean exists = Files.exists(abs);
                Path r = exists || abs.getParent() == null ? real(abs)
                        : realFolders.computeIfAbsent(abs.getParent(), OutputGuard::real).resolve(abs.getFileName());
                Map.Entry<String, Path> hit = byPath.get(r);
                if (hit == null && exists) {
                    Object key = fileKey(abs);
                    hit = key == null ? null : byKey.get(key);
                }
                if (hit != null) {
                    throw LoraException.file(f, "is the input " + hit.getKey() + " " + hit.getValue() + "; writing it"
                            + " into " + o.getKey() + " would destroy the input (choose another " + o.getKey() + ")");
                }
            }
        }
    }

    private static Object fileKey(Path p) {
        try {
            return Files.readAttributes(p, BasicFileAttributes.class).fileKey();
        } catch (IOException e) {
            return null;
        }
    }

    /** True for a folder {@code lora train} wrote. */
    public static boolean isTrainingRun(Path dir) {
        return Files.isRegularFile(dir.resolve(RUN_CONFIG)) && Files.isRegularFile(dir.resolve(RUN_METRICS));
    }

    /**
     * The real path of {@code p}: its longest existing prefix resolved with symlinks followed, the
     * rest (not yet created) appended as given, normalised.
     */
    public static Path real(Path p) {
        Path abs = p.toAbsolutePath().normalize();
        Path existing = abs;
        List<Path> tail = new ArrayList<>();
        while (existing != null && !Files.exists(existing)) {
            tail.add(0, existing.getFileName());
            existing = existing.getParent();
        }
        Path base;
        try {
            base = existing == null ? abs.getRoot() : existing.toRealPath();
        } catch (IOException e) {
            base = existing;
        }
        Path r = base;
        for (Path t : tail) {
            r = r.resolve(t.toString());
        }
        return r.normalize();
    }

    private static boolean sameFile(Path a, Path b) {
        if (!Files.exists(a) || !Files.exists(b)) {
            return false;
        }
        try {
            Object ka = Files.readAttributes(a, BasicFileAttributes.class).fileKey();
            Object kb = Files.readAttributes(b, BasicFileAttributes.class).fileKey();
            return ka != null ? Objects.equals(ka, kb) : Files.isSameFile(a, b);
        } catch (IOException e) {
            return false;
        }
    }
}
