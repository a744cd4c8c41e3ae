package com.loratool.checkpoint;

import com.loratool.config.ModelSection;
import com.loratool.io.Checksums;
import java.nio.file.Path;

/**
 * Where a model's base weights came from: a file (and its SHA-256, computed on first use unless a
 * checkpoint recorded and verified it), or seeded random numbers ({@code model.weights: random}).
 */
public final class Provenance {
    private final Path file;
    private final long seed;
    private final String architectureKey;
    private String sha256;

    private Provenance(Path file, String sha256, long seed, String architectureKey) {
        this.file = file;
        this.sha256 = sha256;
        this.seed = seed;
        this.architectureKey = architectureKey;
    }

    static Provenance file(Path file, String knownSha256) {
        return new Provenance(file, knownSha256 == null || knownSha256.isBlank() ? null : knownSha256, 0, null);
    }

    static Provenance random(long seed, String architectureKey) {
        return new Provenance(null, null, seed, architectureKey);
    }

    public boolean random() {
        return file == null;
    }

    /** The weights file; null for random weights. */
    public Path file() {
        return file;
    }

    /** The seed of random weights. */
    public long seed() {
        return seed;
    }

    /** SHA-256 of the weights file, or {@link ModelSection#RANDOM} for random weights. */
    public synchronized String sha256() {
        if (random()) {
            return ModelSection.RANDOM;
        }
        if (sha256 == null) {
            sha256 = Checksums.sha256(file);
        }
        return sha256;
    }

    /** What identifies these weights for caches: the SHA-256, or seed and architecture. */
    public String cacheKey() {
        return random() ? "random-" + seed + "-" + architectureKey : sha256();
    }

    /** In words, for reports: {@code weights.pth (SHA-256 0123456789ab...)} or {@code random (seed 0)}. */
    public String description() {
        return random() ? "random (seed " + seed + ")" : file + " (SHA-256 " + sha256().substring(0, 12) + "...)";
    }
}
