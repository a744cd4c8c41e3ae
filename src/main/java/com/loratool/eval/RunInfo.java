package com.loratool.eval;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.loratool.LoraException;
import com.loratool.config.Sizing;
import com.loratool.model.DepthPredictor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * What eval needs from a training run folder ({@code runs/<run>/}): the resolved
 * {@code config.yaml} (model architecture, data root), {@code split.json} and {@code loss.png}.
 * The run folder is the nearest ancestor of the checkpoint holding a {@code config.yaml}.
 */
public record RunInfo(Path dir, JsonNode config) {
    public static RunInfo of(Path checkpoint) {
        for (Path d = checkpoint.toAbsolutePath().normalize(); d != null; d = d.getParent()) {
            Path cfg = d.resolve("config.yaml");
            if (Files.isRegularFile(cfg)) {
                try {
                    return new RunInfo(d, new ObjectMapper(new YAMLFactory()).readTree(cfg.toFile()));
                } catch (IOException e) {
                    throw LoraException.file(cfg, "not valid YAML: " + e.getMessage(), e);
                }
            }
        }
        return new RunInfo(null, null);
    }

    private String text(String section, String key) {
        if (config == null) {
            return null;
        }
        JsonNode n = config.path(section).path(key);
        return n.isValueNode() && !n.asText().isBlank() ? n.asText() : null;
    }

    /**
     * A path from the run config: as written (relative to the working directory the run was started
     * from), else relative to the run folder's parents (for eval started elsewhere).
     */
    Path locate(String s) {
        if (s == null) {
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

    /** {@code data.root}, or null. */
    public Path dataRoot() {
        return locate(text("data", "root"));
    }

    public String modelPreset() {
        return text("model", "preset");
    }

    public Path modelConfig() {
        return locate(text("model", "config"));
    }

    /** True when the run's base weights are seeded random numbers ({@code model.weights: random}). */
    public boolean randomWeights() {
        return "random".equals(text("model", "weights"));
    }

    /** {@code train.seed} (default 42, as the training config). */
    public long trainSeed() {
        String s = text("train", "seed");
        return s == null ? 42 : Long.parseLong(s.trim());
    }

    /**
     * The network-size rule the run was trained with ({@code data.size}, {@code data.scale} or
     * {@code data.input_size}), or null when the run names none.
     */
    public NetworkSize networkSize() {
        if (config == null) {
            return null;
        }
        JsonNode size = config.path("data").path("size");
        if (size.isArray() && size.size() == 2) {
            int h = size.get(0).asInt();
            int w = size.get(1).asInt();
            return new NetworkSize("size" + h + "x" + w, "size " + h + "x" + w,
                    (ih, iw) -> toArray(Sizing.explicit(h, w)));
        }
        String scale = text("data", "scale");
        if (scale != null) {
            int n = Integer.parseInt(scale.trim());
            return new NetworkSize("scale" + n, "scale " + n + " (width " + 14 * n + ")",
                    (ih, iw) -> toArray(Sizing.fromScale(ih, iw, n)));
        }
        String input = text("data", "input_size");
        if (input != null) {
            int s = Integer.parseInt(input.trim());
            return NetworkSize.official(s);
        }
        return null;
    }

    private static int[] toArray(Sizing.Size s) {
        return new int[] {s.height(), s.width()};
    }

    /** A size rule with a cache key and a description for reports. */
    public record NetworkSize(String key, String description, DepthPredictor.SizeRule rule) {
        public static NetworkSize official(int inputSize) {
            return new NetworkSize(Integer.toString(inputSize), "input size " + inputSize + " (keep aspect, lower bound)",
                    DepthPredictor.officialRule(inputSize));
        }
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
