package com.loratool.io;

import com.loratool.LoraException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;

/**
 * The one place a batch maps its inputs to the files it writes (docs/reliability.md): every batch
 * command (predict, data preview, eval's pictures and --compare's report folders) asks here before it
 * writes anything. Each input claims its output names; two inputs claiming one name are refused in one
 * line naming both inputs and the file, so no result silently replaces another ({@code a.png} and
 * {@code a.jpg} both writing {@code a.npy}; {@code a.png} writing {@code a_depth.npy} beside the
 * image {@code a_depth.png}'s {@code a_depth.npy}). Names are compared without case: on macOS and
 * Windows {@code A.npy} and {@code a.npy} are one file. Give the files to
 * {@link OutputGuard#outputFiles} so that none of them is an input either.
 */
public final class OutputNames {
    private OutputNames() {}

    /**
     * Each input's output files in {@code dir}, in input order; refuses two inputs that claim one name.
     *
     * @param command the command, for the message
     * @param names the file names (in {@code dir}) one input writes, or may write
     * @param how how the command names its outputs, for the message ("named by the image's file name
     *     without its extension")
     */
    public static <T> Map<T, List<Path>> claim(String command, Path dir, List<T> inputs, Function<T, List<String>> names,
            String how) {
        Map<T, List<Path>> out = new LinkedHashMap<>();
        Map<String, T> owner = new HashMap<>();
        for (T in : inputs) {
            List<Path> files = new ArrayList<>();
            for (String n : names.apply(in)) {
                T before = owner.putIfAbsent(n.toLowerCase(Locale.ROOT), in);
                if (before != null && !before.equals(in)) {
                    throw LoraException.file(dir.resolve(n), command + " would write it for both " + before + " and "
                            + in + " (outputs are " + how + "); rename one of them, or give them to separate runs");
                }
                files.add(dir.resolve(n));
            }
            out.put(in, List.copyOf(files));
        }
        return out;
    }

    /** A file's name without its last extension ({@code a.b.png} → {@code a.b}): how predict names its outputs. */
    public static String stem(Path file) {
        String n = file.getFileName().toString();
        int dot = n.lastIndexOf('.');
        return dot > 0 ? n.substring(0, dot) : n;
    }
}
