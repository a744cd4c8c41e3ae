package com.loratool.io;

import com.loratool.LoraException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Enumeration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipFile;

/** NumPy .npz archives (zip of .npy, stored or deflated, as np.savez / np.savez_compressed). */
public final class Npz {
    private Npz() {}

    /** Reads every array; keys are entry names without the ".npy" suffix, in archive order. */
    public static Map<String, NpyArray> read(Path file) {
        if (!Files.exists(file)) {
            throw LoraException.file(file, "file not found");
        }
        Map<String, NpyArray> out = new LinkedHashMap<>();
        try (ZipFile zip = new ZipFile(file.toFile())) {
            Enumeration<? extends ZipEntry> en = zip.entries();
            while (en.hasMoreElements()) {
                ZipEntry e = en.nextElement();
                if (e.isDirectory()) {
                    continue;
                }
                String name = e.getName();
                String key = name.endsWith(".npy") ? name.substring(0, name.length() - 4) : name;
                byte[] bytes;
                try (InputStream in = zip.getInputStream(e)) {
                    bytes = in.readAllBytes();
                }
                out.put(key, Npy.parse(file + "[" + name + "]", ByteBuffer.wrap(bytes)));
            }
        } catch (ZipException e) {
            throw LoraException.file(file, "not a valid .npz archive (" + e.getMessage() + ")", e);
        } catch (NoSuchFileException e) {
            throw LoraException.file(file, "file not found");
        } catch (IOException e) {
            throw LoraException.file(file, "cannot read (" + e.getMessage() + ")", e);
        }
        return out;
    }
}
