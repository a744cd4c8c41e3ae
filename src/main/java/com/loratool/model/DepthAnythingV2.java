package com.loratool.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import com.loratool.LoraException;
import com.loratool.io.HostTensor;
import com.loratool.model.nn.Module;
import com.loratool.model.nn.Parameter;
import com.loratool.model.nn.Resampler;
import com.loratool.model.nn.Scalars;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A Depth Anything model: DINOv2 encoder + DPT head, parameter names equal to the official
 * state_dict keys. V2 ({@code pretrained}, {@code depth_head}), or the monocular Depth Anything 3
 * models ({@link ModelConfig#isDa3()}) whose names mirror the official module tree of the
 * {@code DepthAnything3} API object: {@code model.backbone.pretrained.*} and {@code model.head.*}
 * (the Hugging Face checkpoint's keys). Parameters live in the manager given to the constructor;
 * {@link #forward} results attach to the input's manager.
 */
public final class DepthAnythingV2 extends Module {
    private final ModelConfig config;
    private final DinoVisionTransformer pretrained;
    private final DptHead depthHead;
    private final NDManager manager;

    /** Name prefixes of the encoder's parameters (V2, Depth Anything 3). */
    public static final List<String> BACKBONE_PREFIXES = List.of("pretrained.", "model.backbone.pretrained.");
    /** Name prefixes of the DPT head's parameters (V2, Depth Anything 3). */
    public static final List<String> HEAD_PREFIXES = List.of("depth_head.", "model.head.");

    public DepthAnythingV2(ModelConfig config, NDManager manager) {
        this.config = config;
        this.manager = manager;
        Resampler resampler = new Resampler(manager);
        if (config.isDa3()) {
            // DepthAnything3 (API object) -> model: DepthAnything3Net -> backbone: DinoV2 -> pretrained
            Container net = addChild("model", new Container());
            Container backbone = net.add("backbone", new Container());
            pretrained = backbone.add("pretrained", new DinoVisionTransformer(manager, config, resampler));
            depthHead = net.add("head", new DptHead(manager, config, resampler));
        } else {
            pretrained = addChild("pretrained", new DinoVisionTransformer(manager, config, resampler));
            depthHead = addChild("depth_head", new DptHead(manager, config, resampler));
        }
    }

    /** A node of the official module tree that holds only children (DA3's {@code model}, {@code backbone}). */
    public static final class Container extends Module {
        <M extends Module> M add(String name, M child) {
            return addChild(name, child);
        }
    }

    /** True if {@code name} is a parameter or module of the encoder (V2 or DA3 names). */
    public static boolean inBackbone(String name) {
        return BACKBONE_PREFIXES.stream().anyMatch(name::startsWith);
    }

    /** True if {@code name} is a parameter or module of the DPT head (V2 or DA3 names). */
    public static boolean inHead(String name) {
        return HEAD_PREFIXES.stream().anyMatch(name::startsWith);
    }

    public ModelConfig config() {
        return config;
    }

    public NDManager manager() {
        return manager;
    }

    public DinoVisionTransformer pretrained() {
        return pretrained;
    }

    public DptHead depthHead() {
        return depthHead;
    }

    /**
     * Copies a state_dict into the parameters. Strict: any missing, unexpected or mis-shaped key
     * fails with one LoraException listing them (nothing is changed then).
     */
    public void load(Map<String, HostTensor> stateDict) {
        boolean v2Names = stateDict.keySet().stream().anyMatch(k -> k.startsWith("pretrained.") || k.startsWith("depth_head."));
        boolean da3Names = stateDict.keySet().stream().anyMatch(k -> k.startsWith("model.backbone.") || k.startsWith("model.head."));
        if (config.isDa3() && v2Names && !da3Names) {
            throw new LoraException("Depth Anything V2 weights (pretrained.*, depth_head.*) given as Depth Anything 3 ("
                    + config.family().yamlName() + ")");
        }
        if (!config.isDa3() && da3Names && !v2Names) {
            throw new LoraException("Depth Anything 3 weights (model.backbone.*, model.head.*) given as a Depth "
                    + "Anything V2 model");
        }
        Map<String, Parameter> params = namedParameters();
        List<String> missing = new ArrayList<>();
        List<String> misShaped = new ArrayList<>();
        Set<String> unexpected = new LinkedHashSet<>(stateDict.keySet());
        for (Map.Entry<String, Parameter> e : params.entrySet()) {
            HostTensor t = stateDict.get(e.getKey());
            unexpected.remove(e.getKey());
            if (t == null) {
                missing.add(e.getKey());
            } else if (!Arrays.equals(t.shape(), e.getValue().shape().getShape())) {
                misShaped.add(e.getKey() + " " + t.shapeString() + " vs model " + e.getValue().shape());
            }
        }
        if (!missing.isEmpty() || !unexpected.isEmpty() || !misShaped.isEmpty()) {
            StringBuilder sb = new StringBuilder("checkpoint does not fit the " + config.presetName().orElse("custom")
                    + " architecture:");
            append(sb, "missing", missing);
            append(sb, "unexpected", new ArrayList<>(unexpected));
            append(sb, "mis-shaped", misShaped);
            throw new LoraException(sb.toString());
        }
        for (Map.Entry<String, Parameter> e : params.entrySet()) {
            HostTensor t = stateDict.get(e.getKey());
            e.getValue().set(manager.create(t.data(), new Shape(t.shape())));
        }
    }

    private static void append(StringBuilder sb, String what, List<String> keys) {
        if (keys.isEmpty()) {
            return;
        }
        sb.append(' ').append(keys.size()).append(' ').append(what).append(" (");
        int shown = Math.min(4, keys.size());
        sb.append(String.join(", ", keys.subList(0, shown)));
        if (keys.size() > shown) {
            sb.append(", ...");
        }
        sb.append(");");
    }

    /**
     * x (B,3,H,W) float32, H and W multiples of the patch size → (B,H',W') depth, H' = 14 H/patch:
     * relative inverse depth (the head's ReLU output, ReLU again as the official model) or, for a
     * metric model, the head's Sigmoid x max_depth in metres (no final ReLU); for Depth Anything 3
     * the head's depth {@code exp(logit)} before the sky post-processing (what training fits).
     */
    public NDArray forward(NDArray x) {
        return outputs(x, false)[0]; // depth only: a DA3 model's sky head is not run (training's step, eval)
    }

    /**
     * Depth Anything 3: the head's depth and the sky head's output, both (B,H',W'), before the sky
     * post-processing ({@link Da3Outputs#skyFill}). The official model takes (B,N,3,H,W) with N
     * views; a monocular model sees each image alone, so this takes (B,3,H,W) (N = 1).
     */
    public DepthAndSky forwardWithSky(NDArray x) {
        if (!config.isDa3()) {
            throw new IllegalStateException("no sky head: " + config.describe());
        }
        NDArray[] o = outputs(x, true);
        return new DepthAndSky(o[0], o[1]);
    }

    /** Depth Anything 3's two outputs, (B,H,W) each: depth exp(logit) and sky ReLU(logit). */
    public record DepthAndSky(NDArray depth, NDArray sky) {}

    /** The depth (B,H',W') and, when {@code withSky} and for Depth Anything 3, the sky (B,H',W'). */
    private NDArray[] outputs(NDArray x, boolean withSky) {
        Shape s = x.getShape();
        int p = config.patchSize();
        if (s.dimension() != 4 || s.get(1) != 3 || s.get(2) % p != 0 || s.get(3) % p != 0) {
            throw new IllegalArgumentException("input must be (B,3,H,W) with H, W multiples of " + p + ", got " + s);
        }
        int ph = (int) (s.get(2) / p);
        int pw = (int) (s.get(3) / p);
        NDArray[] feats = pretrained.intermediateLayers(x);
        NDArray[] head = depthHead.forward(feats, ph, pw, withSky); // (B,1,14ph,14pw)
        NDArray depth = config.isDa3() ? head[0] : config.isMetric() ? Scalars.mul(head[0], config.maxDepth())
                : Activation.relu(head[0]);
        return head[1] == null ? new NDArray[] {depth.squeeze(1)} : new NDArray[] {depth.squeeze(1), head[1].squeeze(1)};
    }
}
