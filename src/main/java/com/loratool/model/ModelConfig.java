package com.loratool.model;

import com.loratool.io.InputFiles;
import com.fasterxml.jackson.databind.JsonNode;
import com.loratool.LoraException;
import com.loratool.config.TrainSection;
import com.loratool.io.HostTensor;
import com.loratool.io.Json;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Architecture of a Depth Anything V2 model: DINOv2 encoder (embedDim, depth, numHeads,
 * mlpRatio, patchSize, posGrid x posGrid position grid), the encoder layers the DPT head reads
 * (layerIndices), and the head's widths (features, outChannels[4]). {@code swiglu} marks the
 * ViT-g feed-forward (fused SwiGLU instead of the GELU MLP).
 *
 * <p>{@code headActivation} is the head's last layer: {@link HeadActivation#RELU} for the
 * relative (affine-invariant inverse depth) models, {@link HeadActivation#SIGMOID} for the
 * official metric ones ({@code metric_depth/}), whose output is the sigmoid times
 * {@code maxDepth}, in metres. Tensor shapes are the same for both, so a metric model is known
 * only from model.yaml, a preset or a Hugging Face config.json, never from its weights.
 */
public record ModelConfig(
        int embedDim,
        int depth,
        int numHeads,
        double mlpRatio,
        int[] layerIndices,
        int features,
        int[] outChannels,
        int patchSize,
        int posGrid,
        boolean swiglu,
        HeadActivation headActivation,
        double maxDepth,
        Family family) {

    /**
     * The member of the Depth Anything family: V2 (the DPT head gives disparity, ReLU or
     * Sigmoid x max_depth), or Depth Anything 3 monocular: {@code da3mono} (relative depth) and
     * {@code da3metric} (depth at a canonical 300 px focal: metres = focal x output / 300). DA3
     * differs from V2 only in named details, all derived from the family: tensor names mirror the
     * official module tree ({@code model.backbone.pretrained.*}, {@code model.head.*}); no
     * {@code mask_token}; final norm eps 1e-5 (blocks 1e-6); {@code refinenet4} without
     * {@code resConfUnit1}; head activation {@code exp} (the output is depth, larger = farther);
     * a sky head {@code scratch.sky_output_conv2} (ReLU at the end) beside the depth. The head's
     * second width ({@code head_features_2}, 32) and the absent class-token readout are the same
     * in both.
     */
    public enum Family {
        V2("v2"), DA3MONO("da3mono"), DA3METRIC("da3metric");

        private final String yamlName;

        Family(String yamlName) {
            this.yamlName = yamlName;
        }

        /** The model.yaml spelling: v2, da3mono, da3metric. */
        public String yamlName() {
            return yamlName;
        }

        /** True for the Depth Anything 3 members. */
        public boolean isDa3() {
            return this != V2;
        }

        /** From the model.yaml spelling (case-insensitive). */
        public static Family of(String name) {
            for (Family f : values()) {
                if (f.yamlName.equalsIgnoreCase(name)) {
                    return f;
                }
            }
            throw new LoraException("model.family '" + name + "': expected v2, da3mono or da3metric");
        }
    }

    /** Final-norm eps of the DA3 backbone (V2 and every block norm: 1e-6). */
    public static final float DA3_FINAL_NORM_EPS = 1e-5f;
    /** LayerNorm eps of the DINOv2 blocks (and of V2's final norm). */
    public static final float BLOCK_NORM_EPS = 1e-6f;

    /** The Depth Anything 3 monocular presets (ViT-L backbone and DPT sizes of configs/da3mono-large.yaml). */
    public static final String[] DA3_PRESETS = {"da3mono-large", "da3metric-large"};

    /** The relative architectures (their shapes are what {@link #inferFrom} recognises). */
    public static final String[] PRESETS = {"vits", "vitb", "vitl", "vitg"};

    /**
     * The official metric checkpoints: {@code <encoder>-metric-indoor} (Hypersim, max_depth 20 m)
     * and {@code <encoder>-metric-outdoor} (Virtual KITTI 2, max_depth 80 m).
     */
    public static final String[] METRIC_PRESETS = {"vits-metric-indoor", "vitb-metric-indoor",
        "vitl-metric-indoor", "vits-metric-outdoor", "vitb-metric-outdoor", "vitl-metric-outdoor"};

    /** max_depth of the official indoor (Hypersim) metric models, metres. */
    public static final double INDOOR_MAX_DEPTH = 20.0;
    /** max_depth of the official outdoor (Virtual KITTI 2) metric models, metres. */
    public static final double OUTDOOR_MAX_DEPTH = 80.0;

    /**
     * The head's last activation: V2 relative (ReLU) or metric (Sigmoid x max_depth); Depth
     * Anything 3: exp (the last conv gives log-depth).
     */
    public enum HeadActivation {
        RELU("relu"), SIGMOID("sigmoid"), EXP("exp");

        private final String yamlName;

        HeadActivation(String yamlName) {
            this.yamlName = yamlName;
        }

        /** The model.yaml spelling: relu, sigmoid. */
        public String yamlName() {
            return yamlName;
        }

        /** From the model.yaml spelling (case-insensitive). */
        public static HeadActivation of(String name) {
            for (HeadActivation h : values()) {
                if (h.yamlName.equalsIgnoreCase(name)) {
                    return h;
                }
            }
            throw new LoraException("model.head_activation '" + name + "': expected relu (relative depth), "
                    + "sigmoid (metric depth) or exp (Depth Anything 3)");
        }
    }

    public ModelConfig {
        if (embedDim <= 0 || depth <= 0 || numHeads <= 0 || embedDim % numHeads != 0) {
            throw new LoraException("model config: embed_dim " + embedDim + " must be a positive multiple of num_heads "
                    + numHeads + " and depth " + depth + " positive");
        }
        if (layerIndices == null || layerIndices.length != 4 || outChannels == null || outChannels.length != 4) {
            throw new LoraException("model config: layer_indices and out_channels need 4 entries each");
        }
        for (int i : layerIndices) {
            if (i < 0 || i >= depth) {
                throw new LoraException("model config: layer index " + i + " outside 0.." + (depth - 1));
            }
        }
        if (features <= 0 || patchSize <= 0 || posGrid <= 0 || mlpRatio <= 0) {
            throw new LoraException("model config: features, patch_size, pos_grid and mlp_ratio must be positive");
        }
        if (headActivation == null) {
            throw new LoraException("model config: head_activation missing (relu or sigmoid)");
        }
        if (family == null) {
            family = Family.V2;
        }
        if (family.isDa3() && (headActivation != HeadActivation.EXP || maxDepth != 0 || swiglu)) {
            throw new LoraException("model config: Depth Anything 3 (" + family.yamlName() + ") has head_activation "
                    + "exp, no max_depth and no SwiGLU feed-forward");
        }
        if (!family.isDa3() && headActivation == HeadActivation.EXP) {
            throw new LoraException("model config: head_activation exp is Depth Anything 3's (family da3mono or "
                    + "da3metric), not V2's");
        }
        if (headActivation == HeadActivation.SIGMOID && !(maxDepth > 0 && Double.isFinite(maxDepth))) {
            throw new LoraException("model config: head_activation sigmoid (metric) needs a positive max_depth "
                    + "in metres, got " + maxDepth);
        }
        if (headActivation == HeadActivation.RELU && maxDepth != 0) {
            throw new LoraException("model config: max_depth " + maxDepth + " needs head_activation: sigmoid "
                    + "(a relative model's output has no unit)");
        }
        layerIndices = layerIndices.clone();
        outChannels = outChannels.clone();
    }

    /** A Depth Anything V2 model. */
    public ModelConfig(int embedDim, int depth, int numHeads, double mlpRatio, int[] layerIndices, int features,
            int[] outChannels, int patchSize, int posGrid, boolean swiglu, HeadActivation headActivation,
            double maxDepth) {
        this(embedDim, depth, numHeads, mlpRatio, layerIndices, features, outChannels, patchSize, posGrid, swiglu,
                headActivation, maxDepth, Family.V2);
    }

    /** A relative model (ReLU head). */
    public ModelConfig(int embedDim, int depth, int numHeads, double mlpRatio, int[] layerIndices, int features,
            int[] outChannels, int patchSize, int posGrid, boolean swiglu) {
        this(embedDim, depth, numHeads, mlpRatio, layerIndices, features, outChannels, patchSize, posGrid, swiglu,
                HeadActivation.RELU, 0);
    }

    /** A relative model with the MLP without SwiGLU (every official model but vitg). */
    public ModelConfig(int embedDim, int depth, int numHeads, double mlpRatio, int[] layerIndices, int features,
            int[] outChannels, int patchSize, int posGrid) {
        this(embedDim, depth, numHeads, mlpRatio, layerIndices, features, outChannels, patchSize, posGrid, false);
    }

    /**
     * True for a V2 metric model (Sigmoid head, output in metres). A da3metric model is not one:
     * its output becomes metres only with a focal ({@link Da3Outputs#metres}).
     */
    public boolean isMetric() {
        return headActivation == HeadActivation.SIGMOID;
    }

    /** What the model outputs, for the loss rule ({@link TrainSection.Loss#suits(TrainSection.ModelKind)}). */
    public TrainSection.ModelKind lossKind() {
        return family == Family.DA3METRIC ? TrainSection.ModelKind.da3metric
                : family == Family.DA3MONO ? TrainSection.ModelKind.da3mono
                : isMetric() ? TrainSection.ModelKind.v2_metric : TrainSection.ModelKind.v2_relative;
    }

    /** True for a Depth Anything 3 model (da3mono or da3metric). */
    public boolean isDa3() {
        return family.isDa3();
    }

    /** These backbone and DPT sizes as a Depth Anything 3 model of {@code f} (da3mono or da3metric). */
    public ModelConfig da3(Family f) {
        if (!f.isDa3()) {
            throw new IllegalArgumentException("not a Depth Anything 3 family: " + f);
        }
        return new ModelConfig(embedDim, depth, numHeads, mlpRatio, layerIndices, features, outChannels, patchSize,
                posGrid, false, HeadActivation.EXP, 0, f);
    }

    /** The final norm's eps: 1e-5 for Depth Anything 3, 1e-6 for V2. */
    public float finalNormEps() {
        return isDa3() ? DA3_FINAL_NORM_EPS : BLOCK_NORM_EPS;
    }

    /** This architecture with a metric head: Sigmoid x {@code maxDepth} metres. */
    public ModelConfig metric(double maxDepth) {
        if (isDa3()) {
            throw new IllegalStateException("a V2 metric head on a Depth Anything 3 model");
        }
        return new ModelConfig(embedDim, depth, numHeads, mlpRatio, layerIndices, features, outChannels, patchSize,
                posGrid, swiglu, HeadActivation.SIGMOID, maxDepth);
    }

    /** This architecture with a relative (ReLU) head. */
    public ModelConfig relative() {
        return new ModelConfig(embedDim, depth, numHeads, mlpRatio, layerIndices, features, outChannels, patchSize,
                posGrid, swiglu);
    }

    /** True if {@code name} is a preset (relative or metric). */
    public static boolean isPreset(String name) {
        return Arrays.asList(PRESETS).contains(name) || Arrays.asList(METRIC_PRESETS).contains(name)
                || Arrays.asList(DA3_PRESETS).contains(name);
    }

    /**
     * The official architectures: vits, vitb, vitl, vitg (relative), and the metric checkpoints
     * vit{s,b,l}-metric-indoor (max_depth 20 m) and vit{s,b,l}-metric-outdoor (80 m); Depth
     * Anything 3's da3mono-large and da3metric-large (ViT-L: embed 1024, depth 24, heads 16, layers
     * 4, 11, 17, 23, features 256, out_channels 256, 512, 1024, 1024, as vitl).
     */
    public static ModelConfig preset(String name) {
        if ("da3mono-large".equals(name)) {
            return preset("vitl").da3(Family.DA3MONO);
        }
        if ("da3metric-large".equals(name)) {
            return preset("vitl").da3(Family.DA3METRIC);
        }
        if (name != null && Arrays.asList(METRIC_PRESETS).contains(name)) {
            String encoder = name.substring(0, name.indexOf('-'));
            return preset(encoder).metric(name.endsWith("-indoor") ? INDOOR_MAX_DEPTH : OUTDOOR_MAX_DEPTH);
        }
        switch (name == null ? "" : name) {
            case "vits":
                return new ModelConfig(384, 12, 6, 4, new int[] {2, 5, 8, 11}, 64, new int[] {48, 96, 192, 384}, 14, 37);
            case "vitb":
                return new ModelConfig(768, 12, 12, 4, new int[] {2, 5, 8, 11}, 128, new int[] {96, 192, 384, 768}, 14, 37);
            case "vitl":
                return new ModelConfig(1024, 24, 16, 4, new int[] {4, 11, 17, 23}, 256,
                        new int[] {256, 512, 1024, 1024}, 14, 37);
            case "vitg":
                return new ModelConfig(1536, 40, 24, 4, new int[] {9, 19, 29, 39}, 384,
                        new int[] {1536, 1536, 1536, 1536}, 14, 37, true);
            default:
                throw new LoraException("unknown encoder '" + name + "' (expected one of " + String.join(", ", PRESETS)
                        + ", " + String.join(", ", METRIC_PRESETS) + ", " + String.join(", ", DA3_PRESETS) + ")");
        }
    }

    /** The preset this config equals, if any. */
    public Optional<String> presetName() {
        for (String p : isDa3() ? DA3_PRESETS : isMetric() ? METRIC_PRESETS : PRESETS) {
            if (preset(p).equals(this)) {
                return Optional.of(p);
            }
        }
        return Optional.empty();
    }

    /** The head in words: "relative (ReLU)" or "metric (Sigmoid x max_depth 20 m)". */
    public String describeHead() {
        if (family == Family.DA3MONO) {
            return "Depth Anything 3 mono (exp: relative depth, larger = farther; sky head)";
        }
        if (family == Family.DA3METRIC) {
            return "Depth Anything 3 metric (exp: depth at a 300 px focal, metres = focal x output / 300; sky head)";
        }
        return isMetric() ? "metric (Sigmoid x max_depth " + formatMetres(maxDepth) + " m, output in metres)"
                : "relative (ReLU, inverse depth without unit)";
    }

    private static String formatMetres(double m) {
        return m == Math.rint(m) ? Long.toString((long) m) : Double.toString(m);
    }

    /** Hidden width of the feed-forward layer (SwiGLU: 2/3 of it, rounded up to a multiple of 8). */
    public int mlpHidden() {
        int hidden = (int) (embedDim * mlpRatio);
        return swiglu ? (hidden * 2 / 3 + 7) / 8 * 8 : hidden;
    }

    /** A short description: "vits" or "custom (embed_dim 48, depth 4, heads 3, ...)". */
    public String describe() {
        return presetName().orElse("custom") + " (embed_dim " + embedDim + ", depth " + depth + ", heads " + numHeads
                + ", mlp_ratio " + mlpRatio + (swiglu ? " swiglu" : "") + ", layers " + Arrays.toString(layerIndices)
                + ", features " + features + ", out_channels " + Arrays.toString(outChannels) + ", patch "
                + patchSize + ", pos_grid " + posGrid + (isMetric() ? ", metric max_depth " + formatMetres(maxDepth) + " m"
                        : "") + (isDa3() ? ", " + family.yamlName() : "") + ")";
    }

    /**
     * Reads {@code model:} from a YAML file (keys embed_dim, depth, num_heads, mlp_ratio,
     * layer_indices, features, out_channels, patch_size, pos_grid; optional swiglu,
     * head_activation relu|sigmoid and max_depth), or a preset name under
     * {@code model: {encoder: vits}} (also {@code vits-metric-indoor} ...). A path that is no file
     * but a preset's name stands for that preset, so {@code --model-config vitl-metric-outdoor}
     * works wherever a model.yaml is asked for.
     */
    public static ModelConfig fromYaml(Path file) {
        if (!Files.exists(file) && file.getNameCount() == 1 && isPreset(file.toString())) {
            return preset(file.toString());
        }
        InputFiles.regularFile(file);
        JsonNode root;
        try {
            root = Json.YAML.readTree(file.toFile());
        } catch (IOException e) {
            throw LoraException.file(file, "not valid YAML: " + e.getMessage().lines().findFirst().orElse(""), e);
        }
        JsonNode m = root == null ? null : root.get("model");
        if (m == null || !m.isObject()) {
            throw LoraException.file(file, "no 'model:' section");
        }
        return fromTree(m, file);
    }

    /**
     * The architecture from an already parsed {@code model:} mapping (the model.yaml keys, or
     * {@code encoder: vits}), e.g. the {@code model_config} recorded in a checkpoint; errors name
     * {@code source}.
     */
    public static ModelConfig fromTree(JsonNode m, Path source) {
        if (m == null || !m.isObject()) {
            throw LoraException.file(source, "model config: expected a mapping of architecture keys");
        }
        try {
            if (m.has("encoder") && !m.has("embed_dim")) {
                if (m.has("head_activation") || m.has("max_depth")) {
                    throw new LoraException("model.encoder " + m.get("encoder").asText() + ": head_activation and "
                            + "max_depth come with the preset (use a metric preset such as vits-metric-indoor, "
                            + "or give the whole architecture)");
                }
                return preset(m.get("encoder").asText());
            }
            HeadActivation head = m.has("head_activation") ? HeadActivation.of(m.get("head_activation").asText())
                    : HeadActivation.RELU;
            Family family = m.has("family") ? Family.of(m.get("family").asText())
                    : head == HeadActivation.EXP ? (m.path("metric").asBoolean(false) ? Family.DA3METRIC : Family.DA3MONO)
                    : Family.V2;
            if (family.isDa3()) {
                if (!m.has("head_activation")) {
                    head = HeadActivation.EXP;
                }
                checkDa3Details(m);
            }
            double maxDepth = 0;
            if (m.has("max_depth")) {
                if (!m.get("max_depth").isNumber()) {
                    throw new LoraException("model.max_depth must be a number (metres)");
                }
                maxDepth = m.get("max_depth").asDouble();
            }
            return new ModelConfig(
                    req(m, "embed_dim").asInt(),
                    req(m, "depth").asInt(),
                    req(m, "num_heads").asInt(),
                    m.has("mlp_ratio") ? m.get("mlp_ratio").asDouble() : 4.0,
                    ints(m, m.has("layer_indices") || !m.has("out_layers") ? "layer_indices" : "out_layers"),
                    req(m, "features").asInt(),
                    ints(m, "out_channels"),
                    m.has("patch_size") ? m.get("patch_size").asInt() : 14,
                    m.has("pos_grid") ? m.get("pos_grid").asInt() : 37,
                    m.has("swiglu") && m.get("swiglu").asBoolean(),
                    head,
                    maxDepth,
                    family);
        } catch (LoraException e) {
            throw LoraException.file(source, e.getMessage(), e);
        }
    }

    /**
     * The descriptive keys a Depth Anything 3 model.yaml may carry (as the fixtures' do): when
     * given they must state what this implementation does.
     */
    private static void checkDa3Details(JsonNode m) {
        Object[][] fixed = {{"head_features_2", 32.0}, {"num_register_tokens", 0.0}, {"block_ln_eps", 1e-6},
            {"final_norm_eps", 1e-5}, {"interpolate_offset", 0.1}, {"sky_threshold", 0.3}, {"cat_token", false},
            {"sky_head", true}, {"qkv_bias", true}, {"layer_scale", true}, {"sky_activation", "relu"}};
        for (Object[] f : fixed) {
            JsonNode v = m.get((String) f[0]);
            if (v == null) {
                continue;
            }
            boolean ok = f[1] instanceof Double d ? v.isNumber() && v.asDouble() == d
                    : f[1] instanceof Boolean b ? v.isBoolean() && v.asBoolean() == b
                    : v.isTextual() && v.asText().equalsIgnoreCase((String) f[1]);
            if (!ok) {
                throw new LoraException("model." + f[0] + " " + v + " is not supported for Depth Anything 3 (expected "
                        + f[1] + ")");
            }
        }
    }

    private static JsonNode req(JsonNode m, String key) {
        JsonNode v = m.get(key);
        if (v == null || !(v.isNumber())) {
            throw new LoraException("model." + key + " missing or not a number");
        }
        return v;
    }

    private static int[] ints(JsonNode m, String key) {
        JsonNode v = m.get(key);
        if (v == null || !v.isArray()) {
            throw new LoraException("model." + key + " missing or not a list");
        }
        int[] out = new int[v.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = v.get(i).asInt();
        }
        return out;
    }

    /** The official metric file names: depth_anything_v2_metric_{hypersim,vkitti}_{vits,vitb,vitl}.pth. */
    private static final Pattern OFFICIAL_METRIC_FILE =
            Pattern.compile("depth_anything_v2_metric_(hypersim|vkitti)_(vits|vitb|vitl)\\.pth");

    /**
     * The metric preset an official metric checkpoint's file name stands for
     * ({@code depth_anything_v2_metric_hypersim_vits.pth} → vits-metric-indoor), if it is one.
     */
    public static Optional<String> officialMetricPreset(Path file) {
        if (file == null || file.getFileName() == null) {
            return Optional.empty();
        }
        Matcher m = OFFICIAL_METRIC_FILE.matcher(file.getFileName().toString());
        if (!m.matches()) {
            return Optional.empty();
        }
        return Optional.of(m.group(2) + "-metric-" + (m.group(1).equals("hypersim") ? "indoor" : "outdoor"));
    }

    /**
     * The architecture of the checkpoint at {@code weights} (state dict {@code sd}) when no
     * model.yaml or preset is given: a Hugging Face config.json inside the folder (or next to a
     * safetensors file), else the shapes of {@code sd} and the official metric file names
     * ({@link #inferFrom(Map, Path)}).
     */
    public static ModelConfig forWeights(Path weights, Map<String, HostTensor> sd) {
        Optional<Path> hf = weights == null ? Optional.empty() : HfConfig.besides(weights);
        return hf.isPresent() ? HfConfig.read(hf.get()) : inferFrom(sd, weights);
    }

    /**
     * {@link #inferFrom(Map)}, and a metric head when {@code file} has the name of an official
     * metric checkpoint (the shapes alone cannot tell a metric head from a relative one).
     */
    public static ModelConfig inferFrom(Map<String, HostTensor> sd, Path file) {
        ModelConfig c = inferFrom(sd);
        Optional<String> metric = officialMetricPreset(file);
        if (metric.isPresent() && preset(metric.get()).relative().equals(c)) {
            return preset(metric.get());
        }
        return c;
    }

    /**
     * The architecture of a state_dict with official key names: an official preset when the
     * shapes match one; otherwise a LoraException asking for --model-config (the head count and
     * layer indices of a custom model cannot be read from shapes).
     */
    public static ModelConfig inferFrom(Map<String, HostTensor> sd) {
        StateDictShapes shapes = StateDictShapes.read(sd, "pretrained.", "depth_head.");
        if (shapes == null) {
            throw new LoraException("not a Depth Anything V2 checkpoint (no pretrained.cls_token / pos_embed / "
                    + "patch_embed.proj.weight with official key names)");
        }
        for (String p : PRESETS) {
            ModelConfig c = preset(p);
            if (shapes.matches(c)) {
                return c;
            }
        }
        throw new LoraException("architecture not recognised (" + shapes.describe() + " match no official "
                + "vits/vitb/vitl/vitg); give its head count and layer indices with --model-config FILE (see docs/model.md)");
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ModelConfig c && embedDim == c.embedDim && depth == c.depth && numHeads == c.numHeads
                && mlpRatio == c.mlpRatio && Arrays.equals(layerIndices, c.layerIndices) && features == c.features
                && Arrays.equals(outChannels, c.outChannels) && patchSize == c.patchSize && posGrid == c.posGrid
                && swiglu == c.swiglu && headActivation == c.headActivation && maxDepth == c.maxDepth
                && family == c.family;
    }

    @Override
    public int hashCode() {
        // stable across runs (cache keys): no identity hash of the enum; relative configs hash as before
        int h = Objects.hash(embedDim, depth, numHeads, mlpRatio, Arrays.hashCode(layerIndices), features,
                Arrays.hashCode(outChannels), patchSize, posGrid, swiglu);
        h = isMetric() ? 31 * h + Double.hashCode(maxDepth) : h;
        return isDa3() ? 31 * h + family.yamlName().hashCode() : h;
    }

    @Override
    public String toString() {
        return describe();
    }

    @Override
    public int[] layerIndices() {
        return layerIndices.clone();
    }

    @Override
    public int[] outChannels() {
        return outChannels.clone();
    }
}
