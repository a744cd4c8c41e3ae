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
 * Depth Anything V2: DINOv2 encoder ({@code pretrained}) + DPT head ({@code depth_head}),
 * parameter names equal to the official state_dict keys. Parameters live in the manager given
 * to the constructor; {@link #forward} results attach to the input's manager.
 */
public final class DepthAnythingV2 extends Module {
    private final ModelConfig config;
    private final DinoVisionTransformer pretrained;
    private final DptHead depthHead;
    private final NDManager manager;

    public DepthAnythingV2(ModelConfig config, NDManager manager) {
        this.config = config;
        this.manager = manager;
        Resampler resampler = new Resampler(manager);
        pretrained = addChild("pretrained", new DinoVisionTransformer(manager, config, resampler));
        depthHead = addChild("depth_head", new DptHead(manager, config, resampler));
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
     * metric model, the head's Sigmoid x max_depth in metres (no final ReLU).
     */
    public NDArray forward(NDArray x) {
        Shape s = x.getShape();
        int p = config.patchSize();
        if (s.dimension() != 4 || s.get(1) != 3 || s.get(2) % p != 0 || s.get(3) % p != 0) {
            throw new IllegalArgumentException("input must be (B,3,H,W) with H, W multiples of " + p + ", got " + s);
        }
        int ph = (int) (s.get(2) / p);
        int pw = (int) (s.get(3) / p);
        NDArray[] feats = pretrained.intermediateLayers(x);
        NDArray head = depthHead.forward(feats, ph, pw); // (B,1,14ph,14pw)
        NDArray depth = config.isMetric() ? Scalars.mul(head, config.maxDepth()) : Activation.relu(head);
        return depth.squeeze(1);
    }
}
