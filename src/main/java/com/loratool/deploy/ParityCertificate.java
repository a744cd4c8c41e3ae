package com.loratool.deploy;

import com.loratool.config.SizeRule;
import com.loratool.data.Preprocessing;
import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.loratool.io.HostTensor;
import com.loratool.io.Json;
import com.loratool.model.DepthAnythingV2;
import com.loratool.model.DepthPredictor;
import com.loratool.model.ModelConfig;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.opencv.core.Core;
import org.opencv.core.Mat;

/**
 * The proof that an exported file computes what the toolkit computes: the same real image,
 * preprocessed as {@code infer_image} does, through the toolkit's forward (libtorch) and through
 * the file in ONNX Runtime, at each checked size; max abs error and relative L2 (||onnx - toolkit||
 * / ||toolkit||) per size, and the worst of them against the tolerance. A Depth Anything 3 graph
 * is checked on both its outputs, {@code depth} (the head's exp, before the sky post-processing)
 * and {@code sky}, each against {@code DepthAnythingV2.forwardWithSky}: one check per output and
 * size.
 */
public record ParityCertificate(List<Check> checks, double tolerance, String image) {
    /** One size: batch x height x width, of one output ({@code depth}, or Depth Anything 3's {@code sky}). */
    public record Check(int batch, int height, int width, double maxAbsError, double relL2, String output) {
        /** A check of the {@code depth} output. */
        public Check(int batch, int height, int width, double maxAbsError, double relL2) {
            this(batch, height, width, maxAbsError, relL2, OnnxRuntimeModel.OUTPUT);
        }
    }

    public double maxAbsError() {
        return checks.stream().mapToDouble(Check::maxAbsError).max().orElse(Double.NaN);
    }

    public double relL2() {
        return checks.stream().mapToDouble(Check::relL2).max().orElse(Double.NaN);
    }

    public boolean passed() {
        return relL2() <= tolerance && !Double.isNaN(relL2());
    }

    /** The worst check (for the one-line failure). */
    public Check worst() {
        return checks.stream().max((a, b) -> Double.compare(a.relL2(), b.relL2())).orElseThrow();
    }

    /**
     * The sizes a certificate checks: the export size; with {@code dynamic} also a wider
     * non-square size and a taller one at batch 2; at a fixed size for batches
     * ({@link OnnxOptions#batched}) the export size at batch 2 too.
     */
    public static List<int[]> sizes(OnnxOptions o, int patch) {
        List<int[]> s = new ArrayList<>();
        s.add(new int[] {1, o.height(), o.width()});
        if (o.batched() && !o.dynamic()) {
            s.add(new int[] {2, o.height(), o.width()});
        }
        if (o.dynamic()) { // exact: ExportMemory refuses sizes this close to Integer.MAX_VALUE first
            s.add(new int[] {1, o.height(), Math.addExact(o.width(), 4 * patch)});
            s.add(new int[] {2, Math.addExact(o.height(), 2 * patch), Math.max(patch, o.width() - 2 * patch)});
        }
        return s;
    }

    /** Runs both engines on {@code bgr} (8-bit BGR; the second image of a batch is its mirror). */
    public static ParityCertificate check(ModelConfig cfg, Map<String, HostTensor> mergedStateDict,
                                          OnnxRuntimeModel onnx, OnnxOptions options, Mat bgr, String imageName) {
        List<Check> checks = new ArrayList<>();
        Mat flipped = new Mat();
        Core.flip(bgr, flipped, 1);
        try (NDManager m = NDManager.newBaseManager(Device.cpu())) {
            DepthAnythingV2 model = new DepthAnythingV2(cfg, m);
            model.load(mergedStateDict);
            DepthPredictor.loadOpenCv();
            for (int[] s : sizes(options, cfg.patchSize())) {
                int n = s[0];
                int h = s[1];
                int w = s[2];
                // the official preprocessing straight to this size (the one Preprocessing)
                Preprocessing pre = Preprocessing.official(new SizeRule.Explicit(h, w));
                float[] x = new float[Math.multiplyExact(Math.multiplyExact(n * 3, h), w)];
                for (int i = 0; i < n; i++) {
                    float[] one = pre.fromBgr8(i == 0 ? bgr : flipped).chw();
                    System.arraycopy(one, 0, x, i * one.length, one.length);
                }
                if (cfg.isDa3()) {
                    float[] depth;
                    float[] sky;
                    try (NDManager step = m.newSubManager()) {
                        DepthAnythingV2.DepthAndSky out = model.forwardWithSky(step.create(x, new Shape(n, 3, h, w)));
                        depth = out.depth().toFloatArray();
                        sky = out.sky().toFloatArray();
                    }
                    float[][] got = onnx.runWithSky(x, n, h, w);
                    checks.add(compare(n, h, w, got[0], depth));
                    Check c = compare(n, h, w, got[1], sky);
                    checks.add(new Check(n, h, w, c.maxAbsError(), c.relL2(), OnnxRuntimeModel.SKY));
                    continue;
                }
                float[] expected;
                try (NDManager step = m.newSubManager()) {
                    NDArray out = model.forward(step.create(x, new Shape(n, 3, h, w)));
                    expected = out.toFloatArray();
                }
                float[] got = onnx.run(x, n, h, w);
                checks.add(compare(n, h, w, got, expected));
            }
        } finally {
            flipped.release();
        }
        return new ParityCertificate(checks, options.tolerance(), imageName);
    }

    static Check compare(int n, int h, int w, float[] got, float[] expected) {
        double maxAbs = 0;
        double num = 0;
        double den = 0;
        for (int i = 0; i < expected.length; i++) {
            double d = (double) got[i] - expected[i];
            maxAbs = Math.max(maxAbs, Math.abs(d));
            num += d * d;
            den += (double) expected[i] * expected[i];
            if (Double.isNaN(d)) {
                maxAbs = Double.NaN;
            }
        }
        double rel = den > 0 ? Math.sqrt(num / den) : Math.sqrt(num);
        return new Check(n, h, w, maxAbs, Double.isNaN(num) ? Double.NaN : rel);
    }

    /** model.onnx.json. */
    public String toJson(String file, OnnxOptions o) {
        ObjectNode root = Json.JSON.createObjectNode();
        root.put("file", file);
        root.put("engine", "onnxruntime " + OnnxRuntimeModel.environment().getVersion() + " (CPU)");
        root.put("reference", "lora toolkit forward (libtorch, fp32)");
        root.put("image", image);
        root.put("opset", o.opset());
        root.put("fp16", o.fp16());
        root.put("dynamic", o.dynamic());
        root.put("tolerance_rel_l2", tolerance);
        root.put("max_abs_error", maxAbsError());
        root.put("rel_l2", relL2());
        root.put("passed", passed());
        ArrayNode a = root.putArray("sizes_checked");
        for (Check c : checks) {
            ObjectNode n = a.addObject();
            if (!c.output().equals(OnnxRuntimeModel.OUTPUT)) {
                n.put("output", c.output()); // Depth Anything 3's sky (a check without "output" is of depth)
            }
            n.put("batch", c.batch());
            n.put("height", c.height());
            n.put("width", c.width());
            n.put("max_abs_error", c.maxAbsError());
            n.put("rel_l2", c.relL2());
        }
        try {
            return Json.pretty(Json.JSON).writeValueAsString(root) + "\n";
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}
