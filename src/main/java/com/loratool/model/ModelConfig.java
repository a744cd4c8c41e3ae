package com.loratool.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.loratool.LoraException;
import com.loratool.io.HostTensor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * Architecture of a Depth Anything V2 model: DINOv2 encoder (embedDim, depth, numHeads,
 * mlpRatio, patchSize, posGrid x posGrid position grid), the encoder layers the DPT head reads
 * (layerIndices), and the head's widths (features, outChannels[4]). {@code swiglu} marks the
 * ViT-g feed-forward (fused SwiGLU instead of the GELU MLP).
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
        boolean swiglu) {

    public static final String[] PRESETS = {"vits", "vitb", "vitl", "vitg"};

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
        layerIndices = layerIndices.clone();
        outChannels = outChannels.clone();
    }

    /** The MLP without SwiGLU (every official model but vitg). */
    public ModelConfig(int embedDim, int depth, int numHeads, double mlpRatio, int[] layerIndices, int features,
            int[] outChannels, int patchSize, int posGrid) {
        this(embedDim, depth, numHeads, mlpRatio, layerIndices, features, outChannels, patchSize, posGrid, false);
    }

    /** The official architectures: vits, vitb, vitl, vitg. */
    public static ModelConfig preset(String name) {
        switch (name) {
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
                throw new LoraException("unknown encoder '" + name + "' (expected one of " + String.join(", ", PRESETS) + ")");
        }
    }

    /** The preset this config equals, if any. */
    public Optional<String> presetName() {
        for (String p : PRESETS) {
            if (preset(p).equals(this)) {
                return Optional.of(p);
            }
        }
        return Optional.empty();
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
                + patchSize + ", pos_grid " + posGrid + ")";
    }

    /**
     * Reads {@code model:} from a YAML file (keys embed_dim, depth, num_heads, mlp_ratio,
     * layer_indices, features, out_channels, patch_size, pos_grid; optional swiglu), or a preset
     * name under {@code model: {encoder: vits}}.
     */
    public static ModelConfig fromYaml(Path file) {
        if (!Files.isRegularFile(file)) {
            throw LoraException.file(file, "model config not found");
        }
        JsonNode root;
        try {
            root = new ObjectMapper(new YAMLFactory()).readTree(file.toFile());
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
                return preset(m.get("encoder").asText());
            }
            return new ModelConfig(
                    req(m, "embed_dim").asInt(),
                    req(m, "depth").asInt(),
                    req(m, "num_heads").asInt(),
                    m.has("mlp_ratio") ? m.get("mlp_ratio").asDouble() : 4.0,
                    ints(m, "layer_indices"),
                    req(m, "features").asInt(),
                    ints(m, "out_channels"),
                    m.has("patch_size") ? m.get("patch_size").asInt() : 14,
                    m.has("pos_grid") ? m.get("pos_grid").asInt() : 37,
                    m.has("swiglu") && m.get("swiglu").asBoolean());
        } catch (LoraException e) {
            throw LoraException.file(source, e.getMessage(), e);
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

    /**
     * The architecture of a state_dict with official key names: an official preset when the
     * shapes match one; otherwise a LoraException asking for --model-config (the head count and
     * layer indices of a custom model cannot be read from shapes).
     */
    public static ModelConfig inferFrom(Map<String, HostTensor> sd) {
        HostTensor cls = sd.get("pretrained.cls_token");
        HostTensor pos = sd.get("pretrained.pos_embed");
        HostTensor patch = sd.get("pretrained.patch_embed.proj.weight");
        if (cls == null || pos == null || patch == null || cls.shape().length != 3) {
            throw new LoraException("not a Depth Anything V2 checkpoint (no pretrained.cls_token / pos_embed / "
                    + "patch_embed.proj.weight with official key names)");
        }
        int dim = (int) cls.shape()[2];
        int depth = 0;
        while (sd.containsKey("pretrained.blocks." + depth + ".norm1.weight")) {
            depth++;
        }
        boolean swiglu = sd.containsKey("pretrained.blocks.0.mlp.w12.weight");
        HostTensor rn = sd.get("depth_head.scratch.layer1_rn.weight");
        int features = rn == null ? -1 : (int) rn.shape()[0];
        int[] outc = new int[4];
        for (int i = 0; i < 4; i++) {
            HostTensor p = sd.get("depth_head.projects." + i + ".weight");
            outc[i] = p == null ? -1 : (int) p.shape()[0];
        }
        int grid = (int) Math.round(Math.sqrt(pos.shape()[1] - 1));
        for (String p : PRESETS) {
            ModelConfig c = preset(p);
            if (c.embedDim == dim && c.depth == depth && c.features == features && Arrays.equals(c.outChannels, outc)
                    && c.patchSize == patch.shape()[2] && c.posGrid == grid && c.swiglu == swiglu) {
                return c;
            }
        }
        throw new LoraException("architecture not recognised (embed_dim " + dim + ", depth " + depth + ", features "
                + features + ", out_channels " + Arrays.toString(outc) + " match no official vits/vitb/vitl/vitg); "
                + "give its head count and layer indices with --model-config FILE (see docs/model.md)");
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ModelConfig c && embedDim == c.embedDim && depth == c.depth && numHeads == c.numHeads
                && mlpRatio == c.mlpRatio && Arrays.equals(layerIndices, c.layerIndices) && features == c.features
                && Arrays.equals(outChannels, c.outChannels) && patchSize == c.patchSize && posGrid == c.posGrid
                && swiglu == c.swiglu;
    }

    @Override
    public int hashCode() {
        return Objects.hash(embedDim, depth, numHeads, mlpRatio, Arrays.hashCode(layerIndices), features,
                Arrays.hashCode(outChannels), patchSize, posGrid, swiglu);
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
