package com.loratool.io;

import com.loratool.LoraException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The one check every command makes on its outputs before any work (docs/reliability.md): an output,
 * resolved to its real path (symlinks followed, the missing tail kept), may not be one of the
 * command's inputs (same path, or same file by file key: hard links), may not lie inside an input
 * folder and may not contain an input folder (a command that writes files into its output folder
 * also names those files as outputs, so an input file there is caught by the same-file rule); and it may not be a training run folder (one holding
 * {@value #RUN_CONFIG} and {@value #RUN_METRICS}) unless the command owns that run.
 *
 * <p>Usage: {@code OutputGuard.of("--output", out).input("--checkpoint", ck).input("--weights", w).check()}.
 * A null path is skipped, so optional options need no {@code if}.
 */
public final class OutputGuard {
    /** What makes a folder a training run's: {@code lora train} writes both. */
    public static final String RUN_CONFIG = "config.yaml";
    public static final String RUN_METRICS = "metrics.csv";

    private final Map<String, Path> outputs = new LinkedHashMap<>();
    private final Map<String, Path> inputs = new LinkedHashMap<>();
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
            inputs.put(option, input);
        }
        return this;
    }

    public OutputGuard inputs(String option, List<Path> paths) {
        for (int i = 0; paths != null && i < paths.size(); i++) {
            input(paths.size() == 1 ? option : option + " " + paths.get(i), paths.get(i));
        }
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
        for (Map.Entry<String, Path> o : outputs.entrySet()) {
            Path out = real(o.getValue());
            String outName = o.getKey() + " " + o.getValue();
            if (folders.contains(o.getKey()) && Files.exists(out) && !Files.isDirectory(out)) {
                throw LoraException.file(o.getValue(), o.getKey() + ": exists and is not a folder (give a folder for"
                        + " the results)");
            }
            for (Map.Entry<String, Path> i : inputs.entrySet()) {
                if (!Files.exists(i.getValue())) {
                    continue; // nothing there to destroy; the command names the missing input itself
                }
                Path in = real(i.getValue());
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
    }

    /** True for a folder {@code lora train} wrote. */
    public static boolean isTrainingRun(Path dir) {
        return Files.isRegularFile(dir.resolve(RUN_CONFIG)) && Files.isRegularFile(dir.resolve(RUN_METRICS));
    }

    /**
     * The real path of {@code p}: its longest existing prefix resolved with symlinks followed, the
     * rest (not yet created) appended as given, normalised.
     */
    static Path real(Path p) {
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
