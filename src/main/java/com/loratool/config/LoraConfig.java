package com.loratool.config;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.google.re2j.Pattern;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * LoRA settings, the {@code lora:} section of a run config (PEFT's {@code LoraConfig}), also the
 * LoRA part of every adapter checkpoint's {@code adapter_config.json} (lora.AdapterConfig embeds
 * it). A missing or null key takes its default; the compact constructor is the one place the
 * section is checked (as PEFT's dataclass in {@code __post_init__}). Change a copy with
 * {@link Section#with} ({@code l.with("r", 4)}).
 *
 * <p>Adapted layer: {@code y = W x + b + scaling * B A dropout(x)}, the scaling from each layer's
 * (r, alpha, rslora) by {@code lora.LoraScaling}. A is (r, in), B is (out, r); B starts at zero so
 * the adapted model equals the base at step 0.
 *
 * @param r rank. Default 8, at most {@link #MAX_RANK}.
 * @param alpha PEFT's lora_alpha. Default 8.
 * @param dropout dropout on the adapter's input during training, in [0, 1). Default 0.
 * @param targets layers to adapt, parsed by {@link TargetSpec}: words, {@code re:<regex>} over full
 *     module names, or slices of the fused qkv ({@code qkv:q,v}). Default [qkv].
 * @param rslora rank-stabilised scaling (alpha over sqrt of r instead of over r). Default false.
 * @param init A's initialisation: kaiming (uniform, a=sqrt 5, like nn.Linear and PEFT) or gaussian
 *     (N(0, 1/r)). Default kaiming.
 * @param headConvs also adapt every convolution of the DPT head. Default false.
 * @param dora DoRA (PEFT's {@code use_dora}): a trainable magnitude per output feature; linear
 *     layers and qkv slices only. Default false.
 * @param rankPattern per-layer ranks (PEFT's {@code rank_pattern}): regex or module-name suffix → r.
 *     A key matches a module when {@code (.*\.)?(key)} matches its whole official name; the first
 *     key that matches wins (in the order written).
 * @param alphaPattern per-layer alphas (PEFT's {@code alpha_pattern}), matched like rankPattern.
 * @param trainModules modules trained fully next to the adapters (PEFT's {@code modules_to_save}),
 *     parsed by {@link ModuleSelector}: a module name ({@code depth_head}: every parameter under it;
 *     or a parameter's name) or {@code re:<regex>} matched against whole module or parameter names.
 *     Each must match something. Default empty: none.
 * @param trainModulesInit how trainModules start: base (the base weights' values) or random (seeded
 *     fresh initialisation, as the official metric script's new head). Default base.
 */
public record LoraConfig(
        @JsonProperty("r") Integer r,
        @JsonProperty("alpha") Double alpha,
        @JsonProperty("dropout") Double dropout,
        @JsonProperty("targets") List<String> targets,
        @JsonProperty("rslora") Boolean rslora,
        @JsonProperty("init") Init init,
        @JsonProperty("head_convs") Boolean headConvs,
        @JsonProperty("dora") Boolean dora,
        @JsonProperty("rank_pattern") Map<String, Integer> rankPattern,
        @JsonProperty("alpha_pattern") Map<String, Double> alphaPattern,
        @JsonProperty("train_modules") List<String> trainModules,
        @JsonProperty("train_modules_init") TrainModulesInit trainModulesInit) implements Section<LoraConfig> {

    /** A's initialisation. */
    public enum Init { kaiming, gaussian }

    /** How {@link #trainModules} start: the base weights' values, or a seeded fresh initialisation. */
    public enum TrainModulesInit { base, random }

    /** Largest rank (of r and of rank_pattern values): beyond any layer of the largest ViT (6144 wide). */
    public static final int MAX_RANK = 8192;
    /** Largest alpha (of alpha and of alpha_pattern values). */
    public static final double MAX_ALPHA = 1e6;

    public LoraConfig {
        r = Check.in("lora.r", r == null ? 8 : r, 1, MAX_RANK);
        alpha = Check.positive("lora.alpha", alpha == null ? 8.0 : alpha, MAX_ALPHA);
        dropout = Check.fraction("lora.dropout", dropout == null ? 0.0 : dropout);
        targets = Check.list(targets, List.of("qkv"));
        rslora = rslora != null && rslora;
        init = init == null ? Init.kaiming : init;
        headConvs = headConvs != null && headConvs;
        dora = dora != null && dora;
        rankPattern = orderedCopy(rankPattern);
        alphaPattern = orderedCopy(alphaPattern);
        for (Map.Entry<String, Integer> e : rankPattern.entrySet()) {
            patternOf("lora.rank_pattern", e.getKey());
            String key = "lora.rank_pattern." + e.getKey();
            Check.that(e.getValue() != null, key, "must be a rank >= 1", null);
            Check.in(key, e.getValue(), 1, MAX_RANK);
        }
        for (Map.Entry<String, Double> e : alphaPattern.entrySet()) {
            patternOf("lora.alpha_pattern", e.getKey());
            String key = "lora.alpha_pattern." + e.getKey();
            Check.that(e.getValue() != null, key, "must be > 0", null);
            Check.positive(key, e.getValue(), MAX_ALPHA);
        }
        trainModules = Check.list(trainModules, List.of());
        trainModulesInit = trainModulesInit == null ? TrainModulesInit.base : trainModulesInit;
        ModuleSelector.parseAll("lora.train_modules", trainModules);
        if (dora && headConvs) {
            throw new ConfigError("lora.dora", "DoRA adapts linear layers only; set head_convs: false");
        }
        if (targets.isEmpty() && !headConvs && trainModules.isEmpty()) {
            throw new ConfigError("lora.targets", "empty (name at least one layer, e.g. [qkv])");
        }
        TargetSpec.parseAll(targets);
    }

    /** All defaults. */
    public static LoraConfig defaults() {
        return new LoraConfig(null, null, null, null, null, null, null, null, null, null, null, null);
    }

    /** The targets, parsed. */
    public List<TargetSpec> targetSpecs() {
        return TargetSpec.parseAll(targets);
    }

    /** The train_modules, parsed ({@link ModuleSelector}: the grammar shared with train.lr_multipliers). */
    public List<ModuleSelector> trainModuleSelectors() {
        return ModuleSelector.parseAll("lora.train_modules", trainModules);
    }

    /** An unmodifiable copy keeping the written order (first match wins); null reads as empty. */
    private static <T> Map<String, T> orderedCopy(Map<String, T> m) {
        return Collections.unmodifiableMap(m == null ? new LinkedHashMap<>() : new LinkedHashMap<>(m));
    }

    /**
     * PEFT's pattern match ({@code get_pattern_key}): {@code key} matches {@code module} when
     * {@code (.*\.)?(key)} matches the whole name ({@link UserPattern}: linear time). {@code where}
     * names the setting in errors.
     */
    public static Pattern patternOf(String where, String key) {
        return UserPattern.compile(where, "'" + key + "'", "(.*\\.)?(" + key + ")");
    }

    /** The value of the first key of {@code patterns} that matches {@code module}, or null. */
    public static <T> T lookup(Map<String, T> patterns, String module) {
        if (patterns == null) {
            return null;
        }
        for (Map.Entry<String, T> e : patterns.entrySet()) {
            if (patternOf("lora pattern", e.getKey()).matches(module)) {
                return e.getValue();
            }
        }
        return null;
    }
}
