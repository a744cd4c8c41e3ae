package com.loratool.config;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * A training run folder ({@code runs/<name>/}) and its typed run description, read back from the
 * resolved {@code config.yaml} by {@link ConfigLoader} (the binder that wrote it). Eval, predict
 * and export find the run of a checkpoint here: the nearest ancestor of the checkpoint holding a
 * {@code config.yaml}.
 *
 * <p>Relative paths in the run's config (data.root, model.weights, model.config) are as written,
 * relative to the working directory the run was started from; when they do not exist from the
 * current working directory they are looked up relative to the run folder's parents, so eval and
 * predict also work when started elsewhere. {@link #config()} holds the located paths.
 *
 * @param dir the run folder, or null when the checkpoint is not inside one
 * @param config the run, or null when there is no run folder
 */
public record RunFolder(Path dir, RunConfig config) {
    /** The resolved run description's file name inside a run folder. */
    public static final String CONFIG_FILE = "config.yaml";

    /** The run folder of {@code checkpoint} (no run folder: both null). */
    public static RunFolder of(Path checkpoint) {
        return of(checkpoint, List.of());
    }

    /** Same, with {@code --set key=value} overrides applied to the run's config before binding. */
    public static RunFolder of(Path checkpoint, List<String> overrides) {
        Path dir = find(checkpoint);
        if (dir == null) {
            return new RunFolder(null, null);
        }
        RunConfig raw = ConfigLoader.load(dir.resolve(CONFIG_FILE), overrides);
        return new RunFolder(dir, located(raw, dir));
    }

    /** The nearest ancestor of {@code checkpoint} (itself included) holding a config.yaml, or null. */
    public static Path find(Path checkpoint) {
        for (Path d = checkpoint.toAbsolutePath().normalize(); d != null; d = d.getParent()) {
            if (Files.isRegularFile(d.resolve(CONFIG_FILE))) {
                return d;
            }
        }
        return null;
    }

    private static RunConfig located(RunConfig c, Path dir) {
        ModelSection m = new ModelSection(c.model.randomWeights() ? c.model.weights() : str(locate(c.model.weights(), dir)),
                c.model.preset(), str(locate(c.model.config(), dir)));
        DataConfig d = c.data.root() == null ? c.data : c.data.with("root", locate(c.data.root(), dir));
        return c.with("model", m).with("data", d);
    }

    private static String str(Path p) {
        return p == null ? null : p.toString();
    }

    /**
     * A path from the run config: as written (relative to the working directory the run was started
     * from), else relative to the run folder's parents (for eval started elsewhere).
     */
    static Path locate(String s, Path dir) {
        if (s == null || s.isBlank()) {
            return null;
        }
        Path p = Path.of(s);
        if (p.isAbsolute() || Files.exists(p) || dir == null) {
            return p;
        }
        for (Path d = dir.getParent(); d != null; d = d.getParent()) {
            if (Files.exists(d.resolve(p))) {
                return d.resolve(p);
            }
        }
        return p;
    }

    /** True when the checkpoint lies in a run folder. */
    public boolean exists() {
        return dir != null;
    }

    public Path splitJson() {
        return dir == null ? null : dir.resolve("split.json");
    }

    public Path lossPlot() {
        return dir == null ? null : dir.resolve("loss.png");
    }

    public String name() {
        return dir == null ? "?" : dir.getFileName().toString();
    }
}
