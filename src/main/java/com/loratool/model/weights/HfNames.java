package com.loratool.model.weights;

import com.loratool.LoraException;
import com.loratool.io.HostTensor;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
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

    /**
     * A part of a name that varies: its pattern on each side and how a value maps across
     * ({@code {f}}: HF numbers the fusion stages in reverse, {@code {c}}: HF counts the neck convs from 0).
     */
    private record Slot(String hfRegex, String officialRegex, UnaryOperator<String> toOfficial, UnaryOperator<String> toHf) {
        static Slot same(String regex) {
            return new Slot(regex, regex, v -> v, v -> v);
        }
    }

    private static final Map<String, Slot> SLOTS = Map.of(
            "i", Slot.same("\\d+"),
            "d", Slot.same("\\d"),
            "t", Slot.same("weight|bias"),
            "k", Slot.same("[12]"),
            "l", Slot.same("[12]"),
            "n", Slot.same("norm1|norm2|mlp\\.fc1|mlp\\.fc2"),
            "c", new Slot("[0-3]", "[1-4]", v -> Integer.toString(Integer.parseInt(v) + 1),
                    v -> Integer.toString(Integer.parseInt(v) - 1)),
            "f", new Slot("[0-3]", "[1-4]", v -> Integer.toString(4 - Integer.parseInt(v)),
                    v -> Integer.toString(4 - Integer.parseInt(v))));

    /**
     * One name of each side, {@code {x}} marking a {@link Slot}; the one table both renamings read
     * (q/k/v are handled separately: one official tensor is three HF ones).
     */
    private record Rule(String hf, String official, Pattern hfPattern, Pattern officialPattern) {
        static Rule of(String hf, String official) {
            return new Rule(hf, official, compile(hf, true), compile(official, false));
        }

        private static Pattern compile(String template, boolean hfSide) {
            StringBuilder re = new StringBuilder();
            Matcher m = SLOT.matcher(template);
            int last = 0;
            while (m.find()) {
                Slot slot = SLOTS.get(m.group(1));
                re.append(Pattern.quote(template.substring(last, m.start())))
                        .append("(?<").append(m.group(1)).append(">")
                        .append(hfSide ? slot.hfRegex() : slot.officialRegex()).append(")");
                last = m.end();
            }
            return Pattern.compile(re.append(Pattern.quote(template.substring(last))).toString());
        }

        /** The other side's name of {@code name}, or null when this rule does not match it. */
        String rename(String name, boolean toOfficial) {
            Matcher in = (toOfficial ? hfPattern : officialPattern).matcher(name);
            if (!in.matches()) {
                return null;
            }
            Matcher out = SLOT.matcher(toOfficial ? official : hf);
            StringBuilder sb = new StringBuilder();
            while (out.find()) {
                Slot slot = SLOTS.get(out.group(1));
                String v = in.group(out.group(1));
                out.appendReplacement(sb, Matcher.quoteReplacement(toOfficial ? slot.toOfficial().apply(v)
                        : slot.toHf().apply(v)));
            }
            out.appendTail(sb);
            return sb.toString();
        }
    }

    private static final Pattern SLOT = Pattern.compile("\\{([a-z])\\}");

    private static final List<Rule> RULES = List.of(
            Rule.of("backbone.embeddings.cls_token", "pretrained.cls_token"),
            Rule.of("backbone.embeddings.mask_token", "pretrained.mask_token"),
            Rule.of("backbone.embeddings.position_embeddings", "pretrained.pos_embed"),
            Rule.of("backbone.embeddings.patch_embeddings.projection.{t}", "pretrained.patch_embed.proj.{t}"),
            Rule.of("backbone.layernorm.{t}", "pretrained.norm.{t}"),
            Rule.of("backbone.encoder.layer.{i}.layer_scale{k}.lambda1", "pretrained.blocks.{i}.ls{k}.gamma"),
            Rule.of("backbone.encoder.layer.{i}.{n}.{t}", "pretrained.blocks.{i}.{n}.{t}"),
            Rule.of("backbone.encoder.layer.{i}.attention.output.dense.{t}", "pretrained.blocks.{i}.attn.proj.{t}"),
            Rule.of("neck.reassemble_stage.layers.{d}.projection.{t}", "depth_head.projects.{d}.{t}"),
            Rule.of("neck.reassemble_stage.layers.{d}.resize.{t}", "depth_head.resize_layers.{d}.{t}"),
            Rule.of("neck.convs.{c}.weight", "depth_head.scratch.layer{c}_rn.weight"),
            Rule.of("neck.fusion_stage.layers.{f}.projection.{t}", "depth_head.scratch.refinenet{f}.out_conv.{t}"),
            Rule.of("neck.fusion_stage.layers.{f}.residual_layer{k}.convolution{l}.{t}",
                    "depth_head.scratch.refinenet{f}.resConfUnit{k}.conv{l}.{t}"),
            Rule.of("head.conv1.{t}", "depth_head.scratch.output_conv1.{t}"),
            Rule.of("head.conv2.{t}", "depth_head.scratch.output_conv2.0.{t}"),
            Rule.of("head.conv3.{t}", "depth_head.scratch.output_conv2.2.{t}"));

    private static final Pattern HF_QKV =
            Pattern.compile("backbone\\.encoder\\.layer\\.(\\d+)\\.attention\\.attention\\.(query|key|value)\\.(weight|bias)");
    private static final Pattern OFFICIAL_QKV = Pattern.compile("pretrained\\.blocks\\.(\\d+)\\.attn\\.qkv\\.(weight|bias)");

    private static String rename(String name, boolean toOfficial) {
        for (Rule r : RULES) {
            String out = r.rename(name, toOfficial);
            if (out != null) {
                return out;
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
        return rename(hfName, true);
    }

    /**
     * HF name of an official tensor; null for {@code attn.qkv} (three HF tensors, see
     * {@link #qkvNames}) and for names outside the model.
     */
    public static String toHf(String officialName) {
        return rename(officialName, false);
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
            String official = rename(name, true);
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
