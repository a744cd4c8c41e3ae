package com.loratool.model;

import com.loratool.io.InputFiles;
import com.fasterxml.jackson.databind.JsonNode;
import com.loratool.LoraException;
import com.loratool.io.Json;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * The architecture in a Hugging Face {@code DepthAnythingForDepthEstimation} {@code config.json}
 * (transformers' {@code DepthAnythingConfig} with a DINOv2 {@code backbone_config}), as a
 * {@link ModelConfig}. Keys left out take transformers' defaults, as {@code from_pretrained}
 * does: {@code depth_estimation_type} relative, {@code max_depth} 1 (for metric),
 * {@code neck_hidden_sizes} [48, 96, 192, 384], {@code fusion_hidden_size} 64, and for the
 * backbone {@code hidden_size} 768, {@code num_hidden_layers} 12, {@code num_attention_heads} 12,
 * {@code mlp_ratio} 4, {@code patch_size} 14, {@code image_size} 224, {@code use_swiglu_ffn} false.
 * The backbone's {@code out_indices} count the patch embedding as stage 0, so block i is index
 * i + 1.
 */
public final class HfConfig {
    /** The file name next to a Hugging Face model.safetensors. */
    public static final String FILE = "config.json";

    private HfConfig() {}

    /**
     * The config.json that describes {@code weights}: inside it when it is a folder (a downloaded
     * HF repository), next to it when it is a file and that config.json is a Depth Anything one.
     */
    public static Optional<Path> besides(Path weights) {
        if (Files.isDirectory(weights)) {
            Path c = weights.resolve(FILE);
            return Files.isRegularFile(c) ? Optional.of(c) : Optional.empty();
        }
        Path parent = weights.toAbsolutePath().getParent();
        if (parent == null) {
            return Optional.empty();
        }
        Path c = parent.resolve(FILE);
        if (!Files.isRegularFile(c)) {
            return Optional.empty();
        }
        try {
            JsonNode root = Json.JSON.readTree(c.toFile());
            return root != null && "depth_anything".equals(root.path("model_type").asText()) ? Optional.of(c)
                    : Optional.empty();
        } catch (IOException e) {
            return Optional.empty(); // not ours to judge: some other config.json
        }
    }

    /** Reads a config.json; errors name the file and the key. */
    public static ModelConfig read(Path file) {
        JsonNode root = Json.readFinite(file); // a FIFO, bad JSON, NaN or a duplicate key: one line naming the file
        if (root == null || !root.isObject()) {
            throw LoraException.file(file, "not a JSON object");
        }
        try {
            return parse(root);
        } catch (LoraException e) {
            throw LoraException.file(file, e.getMessage(), e);
        }
    }

    static ModelConfig parse(JsonNode root) {
        String type = root.path("model_type").asText("");
        if (!type.isEmpty() && !type.equals("depth_anything")) {
            throw new LoraException("model_type '" + type + "' is not depth_anything");
        }
        if (!root.path("backbone").isNull() && !root.path("backbone").isMissingNode()) {
            throw new LoraException("backbone '" + root.path("backbone").asText()
                    + "' by name is not supported (expected a backbone_config)");
        }
        JsonNode b = root.get("backbone_config");
        if (b == null || !b.isObject()) {
            throw new LoraException("no backbone_config (the DINOv2 encoder's settings)");
        }
        String btype = b.path("model_type").asText("dinov2");
        if (!btype.equals("dinov2")) {
            throw new LoraException("backbone_config.model_type '" + btype + "' is not dinov2");
        }
        int embedDim = integer(b, "backbone_config.hidden_size", 768);
        int depth = integer(b, "backbone_config.num_hidden_layers", 12);
        int heads = integer(b, "backbone_config.num_attention_heads", 12);
        double mlpRatio = b.has("mlp_ratio") ? number(b, "backbone_config.mlp_ratio") : 4.0;
        int patch = integer(b, "backbone_config.patch_size", 14);
        int imageSize = integer(b, "backbone_config.image_size", 224);
        boolean swiglu = b.path("use_swiglu_ffn").asBoolean(false);
        int[] layers = outIndices(b);
        if (imageSize % patch != 0) {
            throw new LoraException("backbone_config.image_size " + imageSize + " is not a multiple of patch_size "
                    + patch);
        }
        int features = integer(root, "fusion_hidden_size", 64);
        int[] outChannels = root.has("neck_hidden_sizes") ? ints(root, "neck_hidden_sizes") : new int[] {48, 96, 192, 384};
        int headHidden = integer(root, "head_hidden_size", 32);
        if (headHidden != 32) {
            throw new LoraException("head_hidden_size " + headHidden + " is not supported (the official head has 32)");
        }
        if (root.has("reassemble_factors")) {
            JsonNode f = root.get("reassemble_factors");
            double[] want = {4, 2, 1, 0.5};
            boolean ok = f.isArray() && f.size() == 4;
            for (int i = 0; ok && i < 4; i++) {
                ok = f.get(i).asDouble() == want[i];
            }
            if (!ok) {
                throw new LoraException("reassemble_factors " + f + " are not supported (expected [4, 2, 1, 0.5])");
            }
        }
        ModelConfig cfg = new ModelConfig(embedDim, depth, heads, mlpRatio, layers, features, outChannels, patch,
                imageSize / patch, swiglu);
        String estimation = root.path("depth_estimation_type").asText("relative");
        switch (estimation) {
            case "relative":
                return cfg;
            case "metric":
                JsonNode md = root.get("max_depth");
                if (md != null && !md.isNull() && !md.isNumber()) {
                    throw new LoraException("max_depth must be a number (metres)");
                }
                // transformers: max_depth if max_depth else 1
                double maxDepth = md == null || md.isNull() || md.asDouble() == 0 ? 1.0 : md.asDouble();
                return cfg.metric(maxDepth);
            default:
                throw new LoraException("depth_estimation_type '" + estimation + "': expected relative or metric");
        }
    }

    private static int[] outIndices(JsonNode b) {
        int[] stages;
        if (b.has("out_indices") && !b.get("out_indices").isNull()) {
            stages = ints(b, "out_indices");
        } else if (b.has("out_features") && b.get("out_features").isArray()) {
            JsonNode f = b.get("out_features");
            stages = new int[f.size()];
            for (int i = 0; i < stages.length; i++) {
                String s = f.get(i).asText();
                if (!s.matches("stage\\d+")) {
                    throw new LoraException("backbone_config.out_features entry '" + s + "' is not stageN");
                }
                stages[i] = Integer.parseInt(s.substring(5));
            }
        } else {
            throw new LoraException("backbone_config has neither out_indices nor out_features (the blocks the "
                    + "head reads)");
        }
        int[] layers = new int[stages.length];
        for (int i = 0; i < stages.length; i++) {
            layers[i] = stages[i] - 1; // stage 0 is the patch embedding
        }
        return layers;
    }

    private static int integer(JsonNode n, String key, int dflt) {
        String field = key.substring(key.lastIndexOf('.') + 1);
        JsonNode v = n.get(field);
        if (v == null || v.isNull()) {
            return dflt;
        }
        if (!v.canConvertToInt() || !v.isIntegralNumber()) {
            throw new LoraException(key + " must be an integer, got " + v);
        }
        return v.asInt();
    }

    private static double number(JsonNode n, String key) {
        JsonNode v = n.get(key.substring(key.lastIndexOf('.') + 1));
        if (!v.isNumber()) {
            throw new LoraException(key + " must be a number, got " + v);
        }
        return v.asDouble();
    }

    private static int[] ints(JsonNode n, String key) {
        JsonNode v = n.get(key);
        if (v == null || !v.isArray()) {
            throw new LoraException(key + " must be a list of integers");
        }
        int[] out = new int[v.size()];
        for (int i = 0; i < out.length; i++) {
            if (!v.get(i).isIntegralNumber()) {
                throw new LoraException(key + " must be a list of integers, got " + v);
            }
            out[i] = v.get(i).asInt();
        }
        return out;
    }
}
