package com.loratool.config;

import com.fasterxml.jackson.databind.annotation.JsonDeserialize;
import com.fasterxml.jackson.databind.annotation.JsonPOJOBuilder;
import com.loratool.KeySuggester;
import com.loratool.LoraException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * LoRA settings, the {@code lora:} section of a run config (PEFT's {@code LoraConfig}).
 *
 * <p>Adapted layer: {@code y = W x + b + scaling * B A dropout(x)}, the scaling from each layer's
 * (r, alpha, rslora) by {@code lora.LoraScaling}. A is (r, in), B is (out, r); B starts at zero so
 * the adapted model equals the base at step 0.
 *
 * <p>Immutable: Jackson binds it through {@link Builder}; change a copy with {@code c.toBuilder()},
 * set the builder's fields, {@code build()} (and {@link RunConfig#withLora}).
 */
@JsonDeserialize(builder = LoraConfig.Builder.class)
public final class LoraConfig {
    /** Target words (besides {@code re:<regex>}); lora.LoraInjector maps them to layers. */
    public static final List<String> TARGET_WORDS = List.of("qkv", "proj", "fc1", "fc2", "attention", "mlp", "linear");

    /** Rank r. */
    public final int r;
    /** alpha (PEFT's lora_alpha). */
    public final double alpha;
    /** Dropout on the adapter's input during training. */
    public final double dropout;
    /**
     * Layers to adapt: qkv, proj, fc1, fc2; shorthands attention (qkv+proj), mlp (fc1+fc2),
     * linear (every encoder linear layer); {@code re:<regex>} over full module names; or slices of
     * the fused qkv, {@code qkv:q,v} (any non-empty subset of q, k, v), each slice its own adapter
     * (module name {@code <block>.attn.qkv.q}) acting on its rows of the fused output.
     */
    public final List<String> targets;
    /** Rank-stabilised scaling (alpha over sqrt of r instead of over r). */
    public final boolean rslora;
    /** A's initialisation: kaiming (uniform, a=sqrt 5, like nn.Linear and PEFT) or gaussian (N(0, 1/r)). */
    public final String init;
    /** Also adapt every convolution of the DPT head (conv LoRA: k x k conv to r channels, then 1x1). */
    public final boolean headConvs;
    /**
     * DoRA (PEFT's {@code use_dora}): a trainable magnitude per output feature, initialised to the
     * row norms of W; the layer's weight becomes {@code m / ||W + s B A|| * (W + s B A)}, the norm
     * per output feature and detached in the backward. Linear layers and qkv slices only.
     */
    public final boolean dora;
    /**
     * Per-layer ranks (PEFT's {@code rank_pattern}): regex or module-name suffix → r. A key matches
     * a module when {@code (.*\.)?(key)} matches its whole official name; the first key that
     * matches wins (in the order written).
     */
    public final Map<String, Integer> rankPattern;
    /** Per-layer alphas (PEFT's {@code alpha_pattern}), matched like {@link #rankPattern}. */
    public final Map<String, Double> alphaPattern;
    /**
     * Modules trained fully next to the adapters (PEFT's {@code modules_to_save}): a module name
     * ({@code depth_head}: every parameter under it) or {@code re:<regex>} matched against whole
     * module names. Empty: none.
     */
    public final List<String> trainModules;
    /**
     * How {@link #trainModules} start: {@code base} (the base weights' values) or {@code random}
     * (seeded fresh initialisation, as the official metric script's new head). Default base.
     */
    public final String trainModulesInit;

    /** All defaults. */
    public LoraConfig() {
        this(new Builder());
    }

    private LoraConfig(Builder b) {
        this.r = b.r;
        this.alpha = b.alpha;
        this.dropout = b.dropout;
        this.targets = b.targets == null ? null : Collections.unmodifiableList(new ArrayList<>(b.targets));
        this.rslora = b.rslora;
        this.init = b.init;
        this.headConvs = b.headConvs;
        this.dora = b.dora;
        this.rankPattern = orderedCopy(b.rankPattern);
        this.alphaPattern = orderedCopy(b.alphaPattern);
        this.trainModules = b.trainModules == null ? List.of() : List.copyOf(b.trainModules);
        this.trainModulesInit = b.trainModulesInit;
    }

    /** An unmodifiable copy keeping the written order (first match wins); null reads as empty. */
    private static <T> Map<String, T> orderedCopy(Map<String, T> m) {
        return Collections.unmodifiableMap(m == null ? new LinkedHashMap<>() : new LinkedHashMap<>(m));
    }

    /** A builder holding this section's values. */
    public Builder toBuilder() {
        Builder b = new Builder();
        b.r = r;
        b.alpha = alpha;
        b.dropout = dropout;
        b.targets = targets;
        b.rslora = rslora;
        b.init = init;
        b.headConvs = headConvs;
        b.dora = dora;
        b.rankPattern = rankPattern;
        b.alphaPattern = alphaPattern;
        b.trainModules = trainModules;
        b.trainModulesInit = trainModulesInit;
        return b;
    }

    /**
     * The mutable twin of {@link LoraConfig} (same fields, the defaults as initial values; the YAML
     * binder fills it key by key, unknown keys are errors).
     */
    @JsonPOJOBuilder(withPrefix = "")
    public static final class Builder {
        public int r = 8;
        public double alpha = 8;
        public double dropout = 0.0;
        public List<String> targets = List.of("qkv");
        public boolean rslora = false;
        public String init = "kaiming";
        public boolean headConvs = false;
        public boolean dora = false;
        public Map<String, Integer> rankPattern = new LinkedHashMap<>();
        public Map<String, Double> alphaPattern = new LinkedHashMap<>();
        public List<String> trainModules = List.of();
        public String trainModulesInit = "base";

        public LoraConfig build() {
            return new LoraConfig(this);
        }
    }

    /** Checks ranges; {@code where} prefixes the messages (e.g. the config file). */
    public void validate(String where) {
        if (r < 1) {
            throw new LoraException(where + "lora.r: must be >= 1, got " + r);
        }
        if (!(alpha > 0)) {
            throw new LoraException(where + "lora.alpha: must be > 0, got " + alpha);
        }
        if (!(dropout >= 0 && dropout < 1)) {
            throw new LoraException(where + "lora.dropout: must be in [0, 1), got " + dropout);
        }
        if (!"kaiming".equals(init) && !"gaussian".equals(init)) {
            throw new LoraException(where + "lora.init: must be kaiming or gaussian, got " + init);
        }
        for (Map.Entry<String, Integer> e : rankPattern.entrySet()) {
            patternOf(where + "lora.rank_pattern", e.getKey());
            if (e.getValue() == null || e.getValue() < 1) {
                throw new LoraException(where + "lora.rank_pattern." + e.getKey() + ": must be >= 1, got " + e.getValue());
            }
        }
        for (Map.Entry<String, Double> e : alphaPattern.entrySet()) {
            patternOf(where + "lora.alpha_pattern", e.getKey());
            if (e.getValue() == null || !(e.getValue() > 0)) {
                throw new LoraException(where + "lora.alpha_pattern." + e.getKey() + ": must be > 0, got " + e.getValue());
            }
        }
        if (!"base".equals(trainModulesInit) && !"random".equals(trainModulesInit)) {
            throw new LoraException(where + "lora.train_modules_init: must be base or random, got " + trainModulesInit);
        }
        for (String m : trainModules) {
            String s = m == null ? "" : m.trim();
            if (s.isEmpty() || s.equals("re:")) {
                throw new LoraException(where + "lora.train_modules: empty module name");
            }
            if (s.startsWith("re:")) {
                try {
                    Pattern.compile(s.substring(3));
                } catch (PatternSyntaxException e) {
                    throw new LoraException(where + "lora.train_modules: bad regular expression " + s + ": "
                            + e.getDescription());
                }
            }
        }
        if (dora && headConvs) {
            throw new LoraException(where + "lora.dora: DoRA adapts linear layers only; set head_convs: false");
        }
        if ((targets == null || targets.isEmpty()) && !headConvs && trainModules.isEmpty()) {
            throw new LoraException(where + "lora.targets: empty (name at least one layer, e.g. [qkv])");
        }
        for (String t : targets == null ? List.<String>of() : targets) {
            String s = t == null ? "" : t.trim();
            if (s.startsWith("re:")) {
                try {
                    Pattern.compile(s.substring(3));
                } catch (PatternSyntaxException e) {
                    throw new LoraException(where + "lora.targets: bad regular expression " + s + ": " + e.getDescription());
                }
            } else if (s.startsWith("qkv:")) {
                continue; // slices of the fused qkv: checked where they are parsed (lora.LoraInjector)
            } else if (!TARGET_WORDS.contains(s)) {
                String hint = KeySuggester.closest(s, TARGET_WORDS);
                throw new LoraException(where + "lora.targets: unknown target '" + s + "'"
                        + (hint != null ? ", did you mean " + hint + "?" : "")
                        + " (valid: " + String.join(", ", TARGET_WORDS) + ", re:<regex>, qkv:q,v)");
            }
        }
    }

    /**
     * PEFT's pattern match ({@code get_pattern_key}): {@code key} matches {@code module} when
     * {@code (.*\.)?(key)} matches the whole name. {@code where} names the setting in errors.
     */
    public static Pattern patternOf(String where, String key) {
        try {
            return Pattern.compile("(.*\\.)?(" + key + ")");
        } catch (PatternSyntaxException e) {
            throw new LoraException(where + ": bad regular expression '" + key + "': " + e.getDescription());
        }
    }

    /** The value of the first key of {@code patterns} that matches {@code module}, or null. */
    public static <T> T lookup(Map<String, T> patterns, String module) {
        if (patterns == null) {
            return null;
        }
        for (Map.Entry<String, T> e : patterns.entrySet()) {
            if (patternOf("lora pattern", e.getKey()).matcher(module).matches()) {
                return e.getValue();
            }
        }
        return null;
    }
}
