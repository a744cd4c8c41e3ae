package com.loratool.model.weights;

import com.loratool.LoraException;
import com.loratool.io.HostTensor;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Tensor names of the Hugging Face {@code DepthAnythingForDepthEstimation} checkpoints
 * ({@code backbone.}, {@code neck.}, {@code head.}) against the official Depth Anything V2
 * names ({@code pretrained.}, {@code depth_head.}). HF keeps query/key/value apart where the
 * official model has one fused {@code attn.qkv} (rows: q, then k, then v), and numbers the
 * fusion stages in reverse ({@code fusion_stage.layers.j} is {@code refinenet(4-j)}).
 */
public final class HfNames {
    private HfNames() {}

    private record Rule(Pattern from, Function<Matcher, String> to) {}

    private static Rule rule(String regex, Function<Matcher, String> to) {
        return new Rule(Pattern.compile(regex), to);
    }

    private static final String T = "(weight|bias)";

    /** HF name → official name (q/k/v are handled separately). */
    private static final List<Rule> TO_OFFICIAL = List.of(
            rule("backbone\\.embeddings\\.cls_token", m -> "pretrained.cls_token"),
            rule("backbone\\.embeddings\\.mask_token", m -> "pretrained.mask_token"),
            rule("backbone\\.embeddings\\.position_embeddings", m -> "pretrained.pos_embed"),
            rule("backbone\\.embeddings\\.patch_embeddings\\.projection\\." + T,
                    m -> "pretrained.patch_embed.proj." + m.group(1)),
            rule("backbone\\.layernorm\\." + T, m -> "pretrained.norm." + m.group(1)),
            rule("backbone\\.encoder\\.layer\\.(\\d+)\\.layer_scale([12])\\.lambda1",
                    m -> "pretrained.blocks." + m.group(1) + ".ls" + m.group(2) + ".gamma"),
            rule("backbone\\.encoder\\.layer\\.(\\d+)\\.(norm1|norm2|mlp\\.fc1|mlp\\.fc2)\\." + T,
                    m -> "pretrained.blocks." + m.group(1) + "." + m.group(2) + "." + m.group(3)),
            rule("backbone\\.encoder\\.layer\\.(\\d+)\\.attention\\.output\\.dense\\." + T,
                    m -> "pretrained.blocks." + m.group(1) + ".attn.proj." + m.group(2)),
            rule("neck\\.reassemble_stage\\.layers\\.(\\d)\\.projection\\." + T,
                    m -> "depth_head.projects." + m.group(1) + "." + m.group(2)),
            rule("neck\\.reassemble_stage\\.layers\\.(\\d)\\.resize\\." + T,
                    m -> "depth_head.resize_layers." + m.group(1) + "." + m.group(2)),
            rule("neck\\.convs\\.([0-3])\\.weight",
                    m -> "depth_head.scratch.layer" + (Integer.parseInt(m.group(1)) + 1) + "_rn.weight"),
            rule("neck\\.fusion_stage\\.layers\\.([0-3])\\.projection\\." + T,
                    m -> refinenet(m.group(1)) + ".out_conv." + m.group(2)),
            rule("neck\\.fusion_stage\\.layers\\.([0-3])\\.residual_layer([12])\\.convolution([12])\\." + T,
                    m -> refinenet(m.group(1)) + ".resConfUnit" + m.group(2) + ".conv" + m.group(3) + "." + m.group(4)),
            rule("head\\.conv1\\." + T, m -> "depth_head.scratch.output_conv1." + m.group(1)),
            rule("head\\.conv2\\." + T, m -> "depth_head.scratch.output_conv2.0." + m.group(1)),
            rule("head\\.conv3\\." + T, m -> "depth_head.scratch.output_conv2.2." + m.group(1)));

    /** Official name → HF name (qkv is handled separately). */
    private static final List<Rule> TO_HF = List.of(
            rule("pretrained\\.cls_token", m -> "backbone.embeddings.cls_token"),
            rule("pretrained\\.mask_token", m -> "backbone.embeddings.mask_token"),
            rule("pretrained\\.pos_embed", m -> "backbone.embeddings.position_embeddings"),
            rule("pretrained\\.patch_embed\\.proj\\." + T,
                    m -> "backbone.embeddings.patch_embeddings.projection." + m.group(1)),
            rule("pretrained\\.norm\\." + T, m -> "backbone.layernorm." + m.group(1)),
            rule("pretrained\\.blocks\\.(\\d+)\\.ls([12])\\.gamma",
                    m -> "backbone.encoder.layer." + m.group(1) + ".layer_scale" + m.group(2) + ".lambda1"),
            rule("pretrained\\.blocks\\.(\\d+)\\.(norm1|norm2|mlp\\.fc1|mlp\\.fc2)\\." + T,
                    m -> "backbone.encoder.layer." + m.group(1) + "." + m.group(2) + "." + m.group(3)),
            rule("pretrained\\.blocks\\.(\\d+)\\.attn\\.proj\\." + T,
                    m -> "backbone.encoder.layer." + m.group(1) + ".attention.output.dense." + m.group(2)),
            rule("depth_head\\.projects\\.(\\d)\\." + T,
                    m -> "neck.reassemble_stage.layers." + m.group(1) + ".projection." + m.group(2)),
            rule("depth_head\\.resize_layers\\.(\\d)\\." + T,
                    m -> "neck.reassemble_stage.layers." + m.group(1) + ".resize." + m.group(2)),
            rule("depth_head\\.scratch\\.layer([1-4])_rn\\.weight",
                    m -> "neck.convs." + (Integer.parseInt(m.group(1)) - 1) + ".weight"),
            rule("depth_head\\.scratch\\.refinenet([1-4])\\.out_conv\\." + T,
                    m -> fusion(m.group(1)) + ".projection." + m.group(2)),
            rule("depth_head\\.scratch\\.refinenet([1-4])\\.resConfUnit([12])\\.conv([12])\\." + T,
                    m -> fusion(m.group(1)) + ".residual_layer" + m.group(2) + ".convolution" + m.group(3) + "." + m.group(4)),
            rule("depth_head\\.scratch\\.output_conv1\\." + T, m -> "head.conv1." + m.group(1)),
            rule("depth_head\\.scratch\\.output_conv2\\.0\\." + T, m -> "head.conv2." + m.group(1)),
            rule("depth_head\\.scratch\\.output_conv2\\.2\\." + T, m -> "head.conv3." + m.group(1)));

    private static final Pattern HF_QKV =
            Pattern.compile("backbone\\.encoder\\.layer\\.(\\d+)\\.attention\\.attention\\.(query|key|value)\\." + T);
    private static final Pattern OFFICIAL_QKV = Pattern.compile("pretrained\\.blocks\\.(\\d+)\\.attn\\.qkv\\." + T);

    private static String refinenet(String j) {
        return "depth_head.scratch.refinenet" + (4 - Integer.parseInt(j));
    }

    private static String fusion(String i) {
        return "neck.fusion_stage.layers." + (4 - Integer.parseInt(i));
    }

    private static String apply(List<Rule> rules, String name) {
        for (Rule r : rules) {
            Matcher m = r.from().matcher(name);
            if (m.matches()) {
                return r.to().apply(m);
            }
        }
        return null;
    }

    /** True if the names look like a Hugging Face DepthAnythingForDepthEstimation checkpoint. */
    public static boolean isHfNaming(Iterable<String> names) {
        for (String n : names) {
            if (n.startsWith("backbone.embeddings.") || n.startsWith("backbone.encoder.")) {
                return true;
            }
        }
        return false;
    }

    /**
     * Official name of an HF tensor; for query/key/value, the fused {@code attn.qkv} name.
     * Null if the name is not part of the HF Depth Anything model.
     */
    public static String toOfficial(String hfName) {
        Matcher q = HF_QKV.matcher(hfName);
        if (q.matches()) {
            return "pretrained.blocks." + q.group(1) + ".attn.qkv." + q.group(3);
        }
        return apply(TO_OFFICIAL, hfName);
    }

    /**
     * HF name of an official tensor; null for {@code attn.qkv} (three HF tensors, see
     * {@link #qkvNames}) and for names outside the model.
     */
    public static String toHf(String officialName) {
        return apply(TO_HF, officialName);
    }

    /** The HF query, key and value names of a fused official {@code attn.qkv} weight or bias; null otherwise. */
    public static List<String> qkvNames(String officialName) {
        Matcher m = OFFICIAL_QKV.matcher(officialName);
        if (!m.matches()) {
            return null;
        }
        String p = "backbone.encoder.layer." + m.group(1) + ".attention.attention.";
        return List.of(p + "query." + m.group(2), p + "key." + m.group(2), p + "value." + m.group(2));
    }

    /**
     * Renames an HF state dict to official names, fusing query/key/value into qkv along dim 0.
     * Unknown names or an incomplete q/k/v triple give a LoraException naming {@code file}.
     */
    public static LinkedHashMap<String, HostTensor> toOfficial(Map<String, HostTensor> hf, Path file) {
        LinkedHashMap<String, HostTensor> out = new LinkedHashMap<>();
        Map<String, HostTensor[]> qkv = new LinkedHashMap<>();
        for (Map.Entry<String, HostTensor> e : hf.entrySet()) {
            String name = e.getKey();
            Matcher q = HF_QKV.matcher(name);
            if (q.matches()) {
                String fused = "pretrained.blocks." + q.group(1) + ".attn.qkv." + q.group(3);
                int part = switch (q.group(2)) {
                    case "query" -> 0;
                    case "key" -> 1;
                    default -> 2;
                };
                HostTensor[] parts = qkv.computeIfAbsent(fused, k -> new HostTensor[3]);
                parts[part] = e.getValue();
                out.putIfAbsent(fused, null); // keeps the position of the first of q/k/v
                continue;
            }
            String official = apply(TO_OFFICIAL, name);
            if (official == null) {
                throw LoraException.file(file, "not a Depth Anything V2 checkpoint: unexpected Hugging Face tensor '"
                        + name + "'");
            }
            out.put(official, e.getValue());
        }
        for (Map.Entry<String, HostTensor[]> e : qkv.entrySet()) {
            HostTensor[] p = e.getValue();
            List<String> names = qkvNames(e.getKey());
            for (int i = 0; i < 3; i++) {
                if (p[i] == null) {
                    throw LoraException.file(file, "'" + names.get(i) + "' is missing (needed with the other of query/key/value)");
                }
            }
            out.put(e.getKey(), concatRows(file, names, p));
        }
        return out;
    }

    /** Official → HF names, splitting each qkv into query/key/value (equal thirds of dim 0). */
    public static LinkedHashMap<String, HostTensor> fromOfficial(Map<String, HostTensor> official) {
        LinkedHashMap<String, HostTensor> out = new LinkedHashMap<>();
        for (Map.Entry<String, HostTensor> e : official.entrySet()) {
            List<String> qkv = qkvNames(e.getKey());
            if (qkv != null) {
                HostTensor[] parts = splitRows(e.getKey(), e.getValue(), 3);
                for (int i = 0; i < 3; i++) {
                    out.put(qkv.get(i), parts[i]);
                }
                continue;
            }
            String hf = toHf(e.getKey());
            if (hf == null) {
                throw new LoraException("'" + e.getKey() + "' has no Hugging Face DepthAnything name");
            }
            out.put(hf, e.getValue());
        }
        return out;
    }

    private static HostTensor concatRows(Path file, List<String> names, HostTensor[] p) {
        long[] s0 = p[0].shape();
        long rows = 0;
        for (int i = 0; i < 3; i++) {
            long[] s = p[i].shape();
            if (s.length != s0.length || s.length == 0
                    || !Arrays.equals(Arrays.copyOfRange(s, 1, s.length),
                            Arrays.copyOfRange(s0, 1, s0.length))) {
                throw LoraException.file(file, "'" + names.get(i) + "' has shape " + p[i].shapeString()
                        + ", unlike '" + names.get(0) + "' " + p[0].shapeString());
            }
            rows += s[0];
        }
        long[] shape = s0.clone();
        shape[0] = rows;
        float[] data = new float[p[0].data().length + p[1].data().length + p[2].data().length];
        int off = 0;
        for (HostTensor t : p) {
            System.arraycopy(t.data(), 0, data, off, t.data().length);
            off += t.data().length;
        }
        return new HostTensor(shape, data);
    }

    private static HostTensor[] splitRows(String name, HostTensor t, int n) {
        long[] s = t.shape();
        if (s.length == 0 || s[0] % n != 0) {
            throw new LoraException("'" + name + "' with shape " + t.shapeString() + " cannot be split into "
                    + n + " equal parts");
        }
        long[] ps = s.clone();
        ps[0] = s[0] / n;
        int len = t.data().length / n;
        HostTensor[] out = new HostTensor[n];
        for (int i = 0; i < n; i++) {
            out[i] = new HostTensor(ps.clone(), Arrays.copyOfRange(t.data(), i * len, (i + 1) * len));
        }
        return out;
    }
}
