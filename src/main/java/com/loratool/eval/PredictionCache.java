package com.loratool.eval;

import com.loratool.LoraException;
import com.loratool.io.CacheDir;
import com.loratool.io.Npy;
import com.loratool.io.NpyArray;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * The original model's predictions on disk, so that evaluating several checkpoints (or the same
 * one again) does not recompute them: {@code <root>/<weights sha256[:16]>-<size rule, e.g. 518 or scale10>/<stem>-<image
 * sha256[:12]>.npy} (float32, h x w). The key holds the weights' content hash, the network input
 * size and the image's content hash, so a changed file is never served stale. Default root:
 * {@code predictions/} in the toolkit's cache, {@link CacheDir} ({@code $LORA_CACHE/predictions} or
 * {@code ~/.cache/lora/predictions}).
 */
public final class PredictionCache implements DepthModel {
    private final DepthModel model;
    private final Path dir;
    private int hits;
    private int misses;

    public PredictionCache(DepthModel model, Path root, String weightsSha256, String sizeKey) {
        this.model = model;
        this.dir = root.resolve(weightsSha256.substring(0, Math.min(16, weightsSha256.length())) + "-" + sizeKey);
    }

    /** {@code predictions/} in the toolkit's cache ({@link CacheDir}). */
    public static Path defaultRoot() {
        return CacheDir.root().resolve("predictions");
    }

    public Path dir() {
        return dir;
    }

    public int hits() {
        return hits;
    }

    public int misses() {
        return misses;
    }

    Path fileFor(EvalSample s) {
        return dir.resolve(s.name() + "-" + contentHash(s) + ".npy");
    }

    @Override
    public float[] predict(EvalSample s) {
        Path f = fileFor(s);
        if (Files.isRegularFile(f)) {
            try {
                NpyArray a = Npy.read(f);
                if (a.shape().length == 2 && a.shape()[0] == s.height() && a.shape()[1] == s.width()) {
                    hits++;
                    return a.data();
                }
            } catch (LoraException e) {
                // a damaged cache entry is recomputed below
            }
        }
        float[] p = model.predict(s);
        misses++;
        try {
            Files.createDirectories(dir);
            Npy.write(f, new long[] {s.height(), s.width()}, p);
        } catch (IOException | LoraException e) {
            // the cache is an optimisation: a read-only home must not stop the evaluation
        }
        return p;
    }

    /** SHA-256 (12 hex digits) of the image file, or of the decoded pixels if there is no file. */
    static String contentHash(EvalSample s) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            if (s.imageFile() != null && Files.isRegularFile(s.imageFile())) {
                md.update(Files.readAllBytes(s.imageFile()));
            } else {
                byte[] px = new byte[(int) (s.image().total() * s.image().channels())];
                s.image().get(0, 0, px);
                md.update(px);
            }
            md.update((s.width() + "x" + s.height()).getBytes());
            return HexFormat.of().formatHex(md.digest()).substring(0, 12);
        } catch (NoSuchAlgorithmException | IOException e) {
            throw new LoraException(s.imageFile() + ": cannot read (" + e.getMessage() + ")", e);
        }
    }
}
