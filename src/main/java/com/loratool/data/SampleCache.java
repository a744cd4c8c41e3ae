package com.loratool.data;

import com.loratool.LoraException;
import com.loratool.config.DataConfig;
import com.loratool.io.AtomicFiles;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Prepared samples, decoded and hole-filled once per file: a memory map (stem → sample) and an
 * optional disk cache whose file names hash the absolute paths, sizes and modification times of
 * both files plus {@link DataConfig#preprocessingKey()} (a changed file or setting misses).
 */
public final class SampleCache {
    private static final int MAGIC = 0x4C44_5331; // "LDS1"
    private final SamplePreparer preparer;
    private final boolean memory;
    private final Path diskDir;
    private final String settingsKey;
    private final Map<String, Sample> mem = new ConcurrentHashMap<>();

    public SampleCache(SamplePreparer preparer, DataConfig config) {
        this.preparer = preparer;
        this.memory = config.cache().memory();
        this.diskDir = config.cache().diskDir() == null ? null : Path.of(config.cache().diskDir());
        this.settingsKey = config.preprocessingKey();
    }

    /** The prepared sample for a pair: memory, then disk, then decode (and store). */
    public Sample get(Pair pair) {
        if (memory) {
            Sample s = mem.get(pair.stem());
            if (s != null) {
                return s;
            }
        }
        Sample s = null;
        Path f = diskDir == null ? null : diskFile(pair);
        if (f != null && Files.isRegularFile(f)) {
            s = readDisk(f, pair.stem());
        }
        if (s == null) {
            s = preparer.prepare(pair);
            if (f != null) {
                writeDisk(f, s);
            }
        }
        if (memory) {
            mem.put(pair.stem(), s);
        }
        return s;
    }

    Path diskFile(Pair pair) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            for (Path p : new Path[] {pair.image(), pair.depth()}) {
                md.update((p.toAbsolutePath().normalize() + "|" + Files.size(p) + "|"
                        + Files.getLastModifiedTime(p).toMillis() + "|").getBytes(StandardCharsets.UTF_8));
            }
            md.update(settingsKey.getBytes(StandardCharsets.UTF_8));
            String hash = HexFormat.of().formatHex(md.digest()).substring(0, 20);
            return diskDir.resolve(pair.stem().replaceAll("[^A-Za-z0-9._-]", "_") + "-" + hash + ".sample");
        } catch (IOException e) {
            throw LoraException.file(pair.image(), "cannot stat (" + e.getMessage() + ")", e);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static Sample readDisk(Path f, String stem) {
        try (DataInputStream in = new DataInputStream(new BufferedInputStream(Files.newInputStream(f), 1 << 16))) {
            if (in.readInt() != MAGIC) {
                return null;
            }
            int h = in.readInt();
            int w = in.readInt();
            float[] image = new float[3 * h * w];
            float[] depth = new float[h * w];
            boolean[] mask = new boolean[h * w];
            for (int i = 0; i < image.length; i++) {
                image[i] = in.readFloat();
            }
            for (int i = 0; i < depth.length; i++) {
                depth[i] = in.readFloat();
            }
            for (int i = 0; i < mask.length; i++) {
                mask[i] = in.readBoolean();
            }
            return new Sample(stem, image, depth, mask, h, w);
        } catch (IOException e) {
            return null; // unreadable cache entry: prepare again and overwrite
        }
    }

    private static void writeDisk(Path f, Sample s) {
        try {
            Files.createDirectories(f.getParent());
        } catch (IOException e) {
            throw LoraException.file(f.getParent(), "cannot create cache folder (" + e.getMessage() + ")", e);
        }
        AtomicFiles.write(f, raw -> {
            DataOutputStream out = new DataOutputStream(new BufferedOutputStream(raw, 1 << 16));
            out.writeInt(MAGIC);
            out.writeInt(s.h());
            out.writeInt(s.w());
            for (float v : s.image()) {
                out.writeFloat(v);
            }
            for (float v : s.depth()) {
                out.writeFloat(v);
            }
            for (boolean b : s.mask()) {
                out.writeBoolean(b);
            }
            out.flush();
        });
    }
}
