package com.loratool.deploy;

import com.loratool.LoraException;
import com.loratool.deploy.proto.Onnx.ModelProto;
import com.loratool.deploy.proto.Onnx.OperatorSetIdProto;
import com.loratool.deploy.proto.Onnx.StringStringEntryProto;
import com.loratool.deploy.proto.Onnx.TensorShapeProto;
import com.loratool.deploy.proto.Onnx.TypeProto;
import com.loratool.deploy.proto.Onnx.ValueInfoProto;
import com.loratool.io.HostTensor;
import com.loratool.model.ModelConfig;
import com.loratool.model.nn.Interpolation;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;

/**
 * Depth Anything V2 as an ONNX graph, op for op the toolkit's own forward (model.DepthAnythingV2):
 * patch conv, class token, position embedding, blocks (LayerNormalization, fused qkv split by
 * Reshape/Transpose/Gather, softmax attention, LayerScale, erf-GELU or SwiGLU), the four normed
 * intermediate layers, the DPT head (1x1 projections, ConvTranspose2d, Resize linear
 * {@code align_corners}), and the last activation (ReLU, or Sigmoid x max_depth for metric).
 *
 * <p>Depth Anything 3 monocular models ({@link ModelConfig#isDa3()}) are the same graph with their
 * differences: the official names ({@code model.backbone.pretrained.*}, {@code model.head.*}),
 * the final norm's eps 1e-5, {@code refinenet4} without {@code resConfUnit1} (it never had a skip
 * input), the head's {@code exp} (depth, before the sky post-processing) and a second output
 * {@code sky} (N x H x W): {@code sky_output_conv2} (Conv, ReLU, Conv, ReLU) on the same resized
 * features as {@code output_conv2}. The sky fill and the metric focal scaling
 * ({@code model.Da3Outputs}) stay outside the graph, as in the official code.
 *
 * <p>Position embeddings: at a fixed size the toolkit's bicubic interpolation matrices
 * ({@link Interpolation#bicubic}, scale factor (p+0.1)/G as the official
 * {@code interpolate_pos_encoding}) are applied here, in Java, and the result is a constant; with
 * {@code dynamic} the graph resizes the G x G grid with Resize cubic ({@code cubic_coeff_a=-0.75},
 * half_pixel, no antialias) at scales (p+0.1)/G, scales 1 (the identity) where the official code
 * returns the grid unchanged.
 *
 * <p>The file is written with protobuf-java and classes that protoc generates at build time from
 * {@code src/main/proto/onnx/onnx_subset.proto} (the public ONNX schema's messages, field numbers
 * as in onnx.proto): protobuf's own encoder gets varints, packed fields, field order and 2 GB
 * limits right, the generated builders make a misspelt field a compile error, and a reader of the
 * official schema reads the result; a hand-rolled encoder would have to re-prove all of that.
 *
 * <p>The weights come in as one merged state dict (adapters already folded in by
 * lora.export.MergedWeights), so the graph has the official structure and no LoRA nodes.
 */
public final class OnnxExport {
    private static final long END = Long.MAX_VALUE;

    private final ModelConfig cfg;
    private final Map<String, HostTensor> sd;
    private final OnnxOptions opt;
    private final OnnxGraph g;
    /** The encoder's and the head's name prefixes (V2 or Depth Anything 3). */
    private final String bb;
    private final String hp;
    private String image;
    private String ph;
    private String pw;

    private OnnxExport(ModelConfig cfg, Map<String, HostTensor> sd, OnnxOptions opt) {
        this.cfg = cfg;
        this.sd = sd;
        this.opt = opt;
        this.g = new OnnxGraph(cfg.isDa3() ? "depth_anything_3" : "depth_anything_v2", opt.fp16());
        this.bb = cfg.isDa3() ? "model.backbone.pretrained." : "pretrained.";
        this.hp = cfg.isDa3() ? "model.head." : "depth_head.";
    }

    /** The serialised ModelProto; {@code metadata} goes to metadata_props. */
    public static byte[] export(ModelConfig cfg, Map<String, HostTensor> mergedStateDict, OnnxOptions options,
                                Map<String, String> metadata) {
        options.checkPatch(cfg.patchSize());
        ExportMemory.requirePositions(cfg, options); // the constant built below fits its arrays
        return new OnnxExport(cfg, mergedStateDict, options).build(metadata).toByteArray();
    }

    private ModelProto build(Map<String, String> metadata) {
        String input = inputs(cfg, opt).get(0).name();
        image = input;
        String x = opt.fp16() ? cast(input, OnnxGraph.FLOAT16) : input;
        int p = cfg.patchSize();
        if (opt.dynamic()) {
            String hw = slice(g.op("Shape", input), 2, 4);
            String grid = g.op("Div", hw, g.ints(p));
            ph = slice(grid, 0, 1);
            pw = slice(grid, 1, 2);
        } else {
            ph = g.ints(opt.height() / p);
            pw = g.ints(opt.width() / p);
        }
        String[] feats = encoder(x);
        List<String> built = head(feats);
        for (Port in : inputs(cfg, opt)) {
            g.graph.addInput(valueInfo(in.name(), OnnxGraph.FLOAT, in.dims().toArray()));
        }
        List<Port> outs = outputs(cfg, opt);
        if (!built.equals(outs.stream().map(Port::name).toList())) {
            throw new IllegalStateException("the head's outputs " + built + " differ from OnnxExport.outputs");
        }
        for (Port out : outs) {
            g.graph.addOutput(valueInfo(out.name(), OnnxGraph.FLOAT, out.dims().toArray()));
        }
        ModelProto.Builder m = ModelProto.newBuilder().setIrVersion(opt.irVersion()).setProducerName("lora")
                .setProducerVersion(metadata.getOrDefault("toolkit_version", "unknown"))
                .setDocString((cfg.isDa3() ? "Depth Anything 3" : "Depth Anything V2")
                        + " exported by lora (LoRA adapters merged)")
                .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(opt.opset()))
                .setGraph(g.graph);
        metadata.forEach((k, v) -> m.addMetadataProps(StringStringEntryProto.newBuilder().setKey(k).setValue(v)));
        return m.build();
    }

    /**
     * One input or output of the graph as the file declares it: its name and dims, a String dim
     * symbolic ({@value #BATCH}, {@code height}, {@code width}), an Integer fixed. Every tensor is
     * float32, fp16 exports included (they cast inside the graph).
     */
    public record Port(String name, List<Object> dims) {}

    /** The symbolic first dimension of every input and output. */
    public static final String BATCH = "batch";

    /** The graph's input: {@code image}, batch x 3 x H x W. */
    public static List<Port> inputs(ModelConfig cfg, OnnxOptions o) {
        return List.of(new Port(OnnxRuntimeModel.INPUT, List.of(BATCH, 3, dim(o, o.height(), "height"),
                dim(o, o.width(), "width"))));
    }

    /** The graph's outputs: {@code depth}, batch x H x W, and Depth Anything 3's {@code sky}, the same. */
    public static List<Port> outputs(ModelConfig cfg, OnnxOptions o) {
        List<Object> dims = List.of(BATCH, dim(o, o.height(), "height"), dim(o, o.width(), "width"));
        return cfg.isDa3() ? List.of(new Port(OnnxRuntimeModel.OUTPUT, dims), new Port(OnnxRuntimeModel.SKY, dims))
                : List.of(new Port(OnnxRuntimeModel.OUTPUT, dims));
    }

    private static Object dim(OnnxOptions o, int fixed, String name) {
        return o.dynamic() ? name : fixed;
    }

    /** A tensor's type and shape; a String dimension is symbolic. */
    private static ValueInfoProto valueInfo(String name, int elemType, Object... dims) {
        TensorShapeProto.Builder s = TensorShapeProto.newBuilder();
        for (Object d : dims) {
            s.addDim(d instanceof String n ? TensorShapeProto.Dimension.newBuilder().setDimParam(n)
                    : TensorShapeProto.Dimension.newBuilder().setDimValue((Integer) d));
        }
        return ValueInfoProto.newBuilder().setName(name).setType(TypeProto.newBuilder().setTensorType(
                TypeProto.Tensor.newBuilder().setElemType(elemType).setShape(s))).build();
    }

    // ---- encoder -------------------------------------------------------------------------------

    private String[] encoder(String x) {
        int d = cfg.embedDim();
        String t = conv(x, bb + "patch_embed.proj", cfg.patchSize(), cfg.patchSize(), 0);
        t = g.op("Transpose", OnnxGraph.attrs("perm", new long[] {0, 2, 1}), g.op("Reshape", t, g.ints(0, 0, -1)));
        String batch = slice(g.op("Shape", image), 0, 1);
        String cls = g.op("Expand", g.weight(bb + "cls_token", new long[] {1, 1, d},
                tensor(bb + "cls_token").data()), g.op("Concat", OnnxGraph.attrs("axis", 0L), batch, g.ints(1, d)));
        t = g.op("Add", g.op("Concat", OnnxGraph.attrs("axis", 1L), cls, t), positions());
        int[] idx = cfg.layerIndices();
        String[] out = new String[idx.length];
        for (int i = 0; i < cfg.depth(); i++) {
            t = block(t, bb + "blocks." + i + ".");
            for (int j = 0; j < idx.length; j++) {
                if (idx[j] == i) {
                    out[j] = t;
                }
            }
        }
        for (int j = 0; j < out.length; j++) {
            out[j] = g.op("Slice", layerNorm(out[j], bb + "norm", cfg.finalNormEps()), g.ints(1), g.ints(END), g.ints(1));
        }
        return out;
    }

    /** (1, 1+ph*pw, D) position embeddings. */
    private String positions() {
        int gs = cfg.posGrid();
        int d = cfg.embedDim();
        float[] pos = tensor(bb + "pos_embed").data();
        if (!opt.dynamic()) {
            int h = opt.height() / cfg.patchSize();
            int w = opt.width() / cfg.patchSize();
            return g.weight("pos_embed_" + h + "x" + w, new long[] {1, 1 + (long) h * w, d}, fixedPositions(pos, gs, d, h, w,
                    opt.height() == opt.width()));
        }
        float[] cls = new float[d];
        System.arraycopy(pos, 0, cls, 0, d);
        float[] grid = new float[d * gs * gs]; // (1, D, G, G)
        for (int i = 0; i < gs * gs; i++) {
            for (int c = 0; c < d; c++) {
                grid[c * gs * gs + i] = pos[d + i * d + c];
            }
        }
        String gridT = g.weight32("pos_embed_grid", new long[] {1, d, gs, gs}, grid);
        String clsPos = g.weight("pos_embed_cls", new long[] {1, 1, d}, cls);
        // scale (p + 0.1) / G per axis; 1 (identity) where the official code returns the grid as it is
        String phf = g.op("Cast", OnnxGraph.attrs("to", (long) OnnxGraph.FLOAT), ph);
        String pwf = g.op("Cast", OnnxGraph.attrs("to", (long) OnnxGraph.FLOAT), pw);
        String tenth = g.weight32(g.fresh("c"), new long[0], new float[] {0.1f});
        String gsf = g.weight32(g.fresh("c"), new long[0], new float[] {gs});
        String one = g.weight32(g.fresh("c"), new long[] {1}, new float[] {1f});
        String sh = g.op("Div", g.op("Add", phf, tenth), gsf);
        String sw = g.op("Div", g.op("Add", pwf, tenth), gsf);
        String same = g.op("And", g.op("Equal", ph, g.ints(gs)), g.op("Equal", pw, g.ints(gs)));
        sh = g.op("Where", same, one, sh);
        sw = g.op("Where", same, one, sw);
        String scales = g.op("Concat", OnnxGraph.attrs("axis", 0L), g.weight32(g.fresh("c"), new long[] {2},
                new float[] {1f, 1f}), sh, sw);
        String r = g.op("Resize", OnnxGraph.attrs("mode", "cubic", "coordinate_transformation_mode", "half_pixel",
                "cubic_coeff_a", -0.75, "exclude_outside", 0L), gridT, "", scales); // (1, D, ph, pw)
        if (opt.fp16()) {
            r = cast(r, OnnxGraph.FLOAT16);
        }
        r = g.op("Transpose", OnnxGraph.attrs("perm", new long[] {0, 2, 1}), g.op("Reshape", r, g.ints(0, 0, -1)));
        return g.op("Concat", OnnxGraph.attrs("axis", 1L), clsPos, r);
    }

    /**
     * The toolkit's {@code interpolate_pos_encoding} at a fixed grid h x w, in Java: the grid
     * unchanged when h*w == G*G on a square input (the official early return), else
     * Mh (h,G) . grid . Mw^T with the bicubic matrices at scale factors (p+0.1)/G.
     */
    static float[] fixedPositions(float[] pos, int gs, int d, int h, int w, boolean square) {
        if ((long) h * w == (long) gs * gs && square) {
            return pos.clone();
        }
        double sx = (h + 0.1) / gs;
        double sy = (w + 0.1) / gs;
        if ((int) Math.floor(gs * sx) != h || (int) Math.floor(gs * sy) != w) {
            throw new LoraException("position grid " + h + "x" + w + " is not reachable from " + gs);
        }
        float[] mh = Interpolation.bicubic(gs, h, sx);
        float[] mw = Interpolation.bicubic(gs, w, sy);
        float[] rows = new float[h * gs * d]; // (h, G, D)
        for (int i = 0; i < h; i++) {
            for (int a = 0; a < gs; a++) {
                float m = mh[i * gs + a];
                if (m == 0) {
                    continue;
                }
                for (int b = 0; b < gs; b++) {
                    int src = d + (a * gs + b) * d;
                    int dst = (i * gs + b) * d;
                    for (int c = 0; c < d; c++) {
                        rows[dst + c] += m * pos[src + c];
                    }
                }
            }
        }
        float[] out = new float[d + h * w * d];
        System.arraycopy(pos, 0, out, 0, d);
        for (int i = 0; i < h; i++) {
            for (int j = 0; j < w; j++) {
                int dst = d + (i * w + j) * d;
                for (int b = 0; b < gs; b++) {
                    float m = mw[j * gs + b];
                    if (m == 0) {
                        continue;
                    }
                    int src = (i * gs + b) * d;
                    for (int c = 0; c < d; c++) {
                        out[dst + c] += m * rows[src + c];
                    }
                }
            }
        }
        return out;
    }

    private String block(String x, String p) {
        String a = attention(layerNorm(x, p + "norm1"), p + "attn.");
        x = g.op("Add", x, g.op("Mul", a, vector(p + "ls1.gamma")));
        String h = layerNorm(x, p + "norm2");
        String f = cfg.swiglu() ? swiglu(h, p + "mlp.") : mlp(h, p + "mlp.");
        return g.op("Add", x, g.op("Mul", f, vector(p + "ls2.gamma")));
    }

    private String attention(String x, String p) {
        int d = cfg.embedDim();
        int heads = cfg.numHeads();
        int hd = d / heads;
        String qkv = linear(x, p + "qkv"); // (N, T, 3D)
        String t = g.op("Transpose", OnnxGraph.attrs("perm", new long[] {2, 0, 3, 1, 4}),
                g.op("Reshape", qkv, g.ints(0, 0, 3, heads, hd))); // (3, N, h, T, hd)
        String q = g.op("Gather", OnnxGraph.attrs("axis", 0L), t, g.ints(true, 0));
        String k = g.op("Gather", OnnxGraph.attrs("axis", 0L), t, g.ints(true, 1));
        String v = g.op("Gather", OnnxGraph.attrs("axis", 0L), t, g.ints(true, 2));
        q = g.op("Mul", q, g.scalar(Math.pow(hd, -0.5)));
        String scores = g.op("MatMul", q, g.op("Transpose", OnnxGraph.attrs("perm", new long[] {0, 1, 3, 2}), k));
        String attn = fp32(scores, s -> g.op("Softmax", OnnxGraph.attrs("axis", -1L), s));
        String o = g.op("Transpose", OnnxGraph.attrs("perm", new long[] {0, 2, 1, 3}), g.op("MatMul", attn, v));
        return linear(g.op("Reshape", o, g.ints(0, 0, d)), p + "proj");
    }

    private String mlp(String x, String p) {
        String h = linear(x, p + "fc1");
        // exact GELU: 0.5 x (1 + erf(x / sqrt 2)), as torch's default
        String erf = g.op("Erf", g.op("Mul", h, g.scalar(Math.sqrt(0.5))));
        String gelu = g.op("Mul", g.op("Mul", h, g.scalar(0.5)), g.op("Add", erf, g.scalar(1.0)));
        return linear(gelu, p + "fc2");
    }

    private String swiglu(String x, String p) {
        String h = linear(x, p + "w12");
        long hidden = tensor(p + "w12.weight").shape()[0] / 2;
        String x1 = g.op("Slice", h, g.ints(0), g.ints(hidden), g.ints(-1));
        String x2 = g.op("Slice", h, g.ints(hidden), g.ints(END), g.ints(-1));
        return linear(g.op("Mul", g.op("Mul", x1, g.op("Sigmoid", x1)), x2), p + "w3");
    }

    // ---- head ----------------------------------------------------------------------------------

    /** The outputs' names: depth, and Depth Anything 3's sky. */
    private List<String> head(String[] feats) {
        String[] layers = new String[4];
        String shape = g.op("Concat", OnnxGraph.attrs("axis", 0L), g.ints(0, cfg.embedDim()), ph, pw);
        for (int i = 0; i < 4; i++) {
            String x = g.op("Transpose", OnnxGraph.attrs("perm", new long[] {0, 2, 1}), feats[i]);
            x = g.op("Reshape", x, shape);
            x = conv(x, hp + "projects." + i, 1, 1, 0);
            String r = hp + "resize_layers." + i;
            if (i < 2) {
                int k = i == 0 ? 4 : 2;
                x = g.op("ConvTranspose", OnnxGraph.attrs("kernel_shape", new long[] {k, k}, "strides", new long[] {k, k}),
                        x, weight(r + ".weight"), vector(r + ".bias"));
            } else if (i == 3) {
                x = conv(x, r, 3, 2, 1);
            }
            layers[i] = conv(x, hp + "scratch.layer" + (i + 1) + "_rn", 3, 1, 1);
        }
        String s = hp + "scratch.";
        String p4 = fusion(s + "refinenet4.", layers[3], null, hw(layers[2]));
        String p3 = fusion(s + "refinenet3.", p4, layers[2], hw(layers[1]));
        String p2 = fusion(s + "refinenet2.", p3, layers[1], hw(layers[0]));
        String p1 = fusion(s + "refinenet1.", p2, layers[0], null);
        String out = conv(p1, s + "output_conv1", 3, 1, 1);
        out = resize(out, g.op("Mul", g.op("Concat", OnnxGraph.attrs("axis", 0L), ph, pw), g.ints(14)));
        String feat = out;
        out = g.op("Relu", conv(out, s + "output_conv2.0", 3, 1, 1));
        out = conv(out, s + "output_conv2.2", 1, 1, 0);
        if (opt.fp16()) {
            out = cast(out, OnnxGraph.FLOAT); // the final activation in fp32
        }
        if (cfg.isDa3()) {
            out = g.op("Exp", out);
        } else {
            out = cfg.headActivation() == ModelConfig.HeadActivation.SIGMOID ? g.op("Sigmoid", out) : g.op("Relu", out);
            out = cfg.isMetric()
                    ? g.op("Mul", out, g.weight32(g.fresh("max_depth"), new long[0], new float[] {(float) cfg.maxDepth()}))
                    : g.op("Relu", out);
        }
        String depth = OnnxRuntimeModel.OUTPUT;
        g.node("Squeeze", new Object[0], new String[] {depth}, out, g.ints(1));
        if (!cfg.isDa3()) {
            return List.of(depth);
        }
        String sky = g.op("Relu", conv(feat, s + "sky_output_conv2.0", 3, 1, 1));
        sky = conv(sky, s + "sky_output_conv2.2", 1, 1, 0);
        if (opt.fp16()) {
            sky = cast(sky, OnnxGraph.FLOAT);
        }
        String skyOut = OnnxRuntimeModel.SKY;
        g.node("Squeeze", new Object[0], new String[] {skyOut}, g.op("Relu", sky), g.ints(1));
        return List.of(depth, skyOut);
    }

    /** refinenetN: (x + rcu1(skip)) → rcu2 → bilinear align_corners to size (null: 2x) → out_conv. */
    private String fusion(String p, String x, String skip, String size) {
        String out = x;
        if (skip != null) {
            out = g.op("Add", out, rcu(skip, p + "resConfUnit1."));
        }
        out = rcu(out, p + "resConfUnit2.");
        if (size == null) {
            size = g.op("Mul", hw(out), g.ints(2));
        }
        return conv(resize(out, size), p + "out_conv", 1, 1, 0);
    }

    private String rcu(String x, String p) {
        String out = conv(g.op("Relu", x), p + "conv1", 3, 1, 1);
        out = conv(g.op("Relu", out), p + "conv2", 3, 1, 1);
        return g.op("Add", out, x);
    }

    private String hw(String x) {
        return slice(g.op("Shape", x), 2, 4);
    }

    /** Bilinear, align_corners=True, to (N, C) + hw. */
    private String resize(String x, String hw) {
        String sizes = g.op("Concat", OnnxGraph.attrs("axis", 0L), slice(g.op("Shape", x), 0, 2), hw);
        return g.op("Resize", OnnxGraph.attrs("mode", "linear", "coordinate_transformation_mode", "align_corners"),
                x, "", "", sizes);
    }

    // ---- layers --------------------------------------------------------------------------------

    private String layerNorm(String x, String p) {
        return layerNorm(x, p, 1e-6);
    }

    private String layerNorm(String x, String p, double eps) {
        int d = cfg.embedDim();
        String w = g.weight32(p + ".weight", new long[] {d}, tensor(p + ".weight").data());
        String b = g.weight32(p + ".bias", new long[] {d}, tensor(p + ".bias").data());
        return fp32(x, v -> g.op("LayerNormalization", OnnxGraph.attrs("axis", -1L, "epsilon", eps), v, w, b));
    }

    /** The op in fp32 (cast in and out in an fp16 graph). */
    private String fp32(String x, UnaryOperator<String> op) {
        if (!opt.fp16()) {
            return op.apply(x);
        }
        return cast(op.apply(cast(x, OnnxGraph.FLOAT)), OnnxGraph.FLOAT16);
    }

    private String linear(String x, String p) {
        HostTensor w = tensor(p + ".weight"); // (out, in)
        int out = (int) w.shape()[0];
        int in = (int) w.shape()[1];
        float[] t = new float[in * out];
        float[] src = w.data();
        for (int o = 0; o < out; o++) {
            for (int i = 0; i < in; i++) {
                t[i * out + o] = src[o * in + i];
            }
        }
        String y = g.op("MatMul", x, g.weight(p + ".weight_t", new long[] {in, out}, t));
        return g.op("Add", y, vector(p + ".bias"));
    }

    private String conv(String x, String p, int k, int stride, int pad) {
        Object[] a = OnnxGraph.attrs("kernel_shape", new long[] {k, k}, "strides", new long[] {stride, stride},
                "pads", new long[] {pad, pad, pad, pad});
        return sd.containsKey(p + ".bias") ? g.op("Conv", a, x, weight(p + ".weight"), vector(p + ".bias"))
                : g.op("Conv", a, x, weight(p + ".weight"));
    }

    private String weight(String key) {
        HostTensor t = tensor(key);
        return g.weight(key, t.shape(), t.data());
    }

    private String vector(String key) {
        return weight(key);
    }

    private String slice(String x, long start, long end) {
        return g.op("Slice", x, g.ints(start), g.ints(end), g.ints(0));
    }

    private String cast(String x, int to) {
        return g.op("Cast", OnnxGraph.attrs("to", (long) to), x);
    }

    private HostTensor tensor(String key) {
        HostTensor t = sd.get(key);
        if (t == null) {
            throw new LoraException("ONNX export: the merged weights have no " + key);
        }
        return t;
    }
}
