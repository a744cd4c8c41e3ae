package com.loratool.io;

import com.loratool.LoraException;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * NumPy .npz archives (zip of .npy, stored or deflated, as np.savez / np.savez_compressed), read
 * through {@link ZipIndex}, which checks every size and offset against the file.
 */
public final class Npz {
    private Npz() {}

    /** Reads every array; keys are entry names without the ".npy" suffix, in archive order. */
    public static Map<String, NpyArray> read(Path file) {
        Map<String, NpyArray> out = new LinkedHashMap<>();
        InputFiles.regularFile(file);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            ZipIndex zip = ZipIndex.open(file, ch);
            for (ZipIndex.Entry e : zip.entries().values()) {
                String name = e.name();
                if (name.endsWith("/")) {
                    continue;
                }
                String key = name.endsWith(".npy") ? name.substring(0, name.length() - 4) : name;
                out.put(key, Npy.parse(file + "[" + Printable.of(name) + "]", zip.bytes(e)));
            }
        } catch (NoSuchFileException e) {
            throw LoraException.file(file, "file not found");
        } catch (IOException e) {
            throw LoraException.file(file, "cannot read (" + e.getMessage() + ")", e);
        }
        return out;
    }
}
