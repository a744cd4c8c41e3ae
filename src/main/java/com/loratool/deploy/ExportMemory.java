package com.loratool.deploy;

import static com.loratool.model.MemoryEstimate.saturate;

import com.loratool.LoraException;
import com.loratool.io.MemoryBudget;
import com.loratool.model.MemoryCheck;
import com.loratool.model.MemoryEstimate;
import com.loratool.model.ModelConfig;
import java.util.List;
import java.util.Locale;

/**
 * What {@code lora export --format onnx} needs, known before anything is built: first the limits
 * no export passes on any machine, then the memory estimate, checked against
 * {@link MemoryBudget} as every other command's is ({@code --no-memory-check} skips the estimate,
 * never the limits). All arithmetic is in long or double, so no size overflows.
 *
 * <p>Limits: each input tensor of the parity check ({@code n x 3 x h x w}) and, at a fixed size,
 * the position embeddings (a constant of {@code (1 + g_h g_w) x D} values, and the bicubic pass
 * over rows, {@code g_h x G x D}) must fit one Java array ({@value #MAX_ARRAY} values); the file
 * (the toolkit writes no external data) must fit protobuf's 2 GB message limit.
 *
 * <p>Estimate, in bytes, with P the parameters, e = 2 with {@code --fp16} else 4, D the embedding
 * width, G the position grid, g_h x g_w the patch grid of a fixed size, and for each size the
 * certificate checks ({@link ParityCertificate#sizes}) n x h x w:
 * <ul>
 *   <li>the file F = e·P + e·(1 + g_h·g_w)·D (the position term only at a fixed size; {@code --dynamic}
 *       resizes the G x G grid inside the graph);
 *   <li>Java heap: building, the positions in float32 and their row pass (4(1 + g_h g_w)D + 4 g_h G D),
 *       the graph's tensors (F) and the serialised file (F); checking, the file read back (2F) and per
 *       size the input (4·3nhw), one prepared image (4·3hw) and both outputs (2·4nhw);
 *   <li>native: ONNX Runtime's session (2F, its initializers and their pre-packed copies), the
 *       toolkit's model (4P), and per size the larger of the two forwards: libtorch's
 *       ({@link MemoryEstimate#inference}, fused attention, plus the image's preparation) and ONNX
 *       Runtime's (the same with the N x N attention scores, which the exported graph computes as
 *       MatMul + Softmax; twice that with {@code --dynamic}, where ONNX Runtime's arena grows in powers
 *       of two), each with its copy of the input and the output.
 * </ul>
 * Refused when heap + native exceed the available memory, or the heap part the JVM's free heap.
 */
final class ExportMemory {
    /** The most values one Java array holds (the JDK's own limit for arrays). */
    static final long MAX_ARRAY = Integer.MAX_VALUE - 8;
    /** The largest serialised protobuf message, so the largest ONNX file without external data. */
    static final long MAX_FILE = Integer.MAX_VALUE;

    private ExportMemory() {}

    /** The estimate: heap and native bytes, and the step that needs the most. */
    record Estimate(long heapBytes, long nativeBytes, String peak) {
        long total() {
            return saturate((double) heapBytes + nativeBytes);
        }
    }

    /** {@code --input-size 518} or {@code --input-size 518x700}: how the user gave the size. */
    static String option(OnnxOptions o) {
        return "--input-size " + size(o.height(), o.width());
    }

    static String size(long h, long w) {
        return h == w ? String.valueOf(h) : h + "x" + w;
    }

    /**
     * Refuses a size no machine can export (one line naming --input-size): an input tensor of the
     * parity check or the fixed-size position embeddings larger than one Java array, or a file
     * above protobuf's 2 GB. {@code parameters}: the merged weights' value count.
     */
    static void requireRepresentable(ModelConfig c, long parameters, OnnxOptions o) {
        int p = c.patchSize();
        // the export size itself first: within it, the certificate's other sizes (+4 patches) cannot overflow an int
        requireArray(o, 1, o.height(), o.width());
        for (int[] s : ParityCertificate.sizes(o, p)) {
            requireArray(o, s[0], s[1], s[2]);
        }
        long bytesPer = o.fp16() ? 2 : 4;
        double positions = positionValues(c, o) * bytesPer;
        double weights = (double) parameters * bytesPer;
        if (weights > MAX_FILE) {
            throw new LoraException("--format onnx: the weights alone would make a file of about "
                    + MemoryBudget.human(saturate(weights)) + ", over the 2.1 GB (2 GiB) an ONNX file without external "
                    + "data can hold (protobuf)" + (o.fp16() ? "" : "; --fp16 halves it"));
        }
        if (weights + positions > MAX_FILE) {
            throw new LoraException(option(o) + ": too large to export: the file would be about "
                    + MemoryBudget.human(saturate(weights + positions)) + " (the fixed-size position embeddings "
                    + MemoryBudget.human(saturate(positions)) + "), over the 2.1 GB (2 GiB) an ONNX file without external "
                    + "data can hold (protobuf); use --dynamic or a smaller size");
        }
        requirePositions(c, o);
    }

    /** The fixed-size position-embedding constant's value count, (1 + g_h g_w) D; 0 with --dynamic. */
    static double positionValues(ModelConfig c, OnnxOptions o) {
        if (o.dynamic()) {
            return 0;
        }
        return (1 + (double) (o.height() / c.patchSize()) * (o.width() / c.patchSize())) * c.embedDim();
    }

    /**
     * At a fixed size, the position-embedding constant ({@code (1 + g_h g_w) x D} values, and its
     * bytes) and its bicubic row pass ({@code g_h x G x D}) must each fit one Java array (with
     * {@code --dynamic} the graph resizes the grid itself). {@link OnnxExport} calls it too.
     */
    static void requirePositions(ModelConfig c, OnnxOptions o) {
        if (o.dynamic()) {
            return;
        }
        long gh = o.height() / c.patchSize();
        long gw = o.width() / c.patchSize();
        double values = positionValues(c, o);
        double rows = (double) gh * c.posGrid() * c.embedDim();
        double bytes = values * (o.fp16() ? 2 : 4);
        if (values > MAX_ARRAY || rows > MAX_ARRAY || bytes > MAX_ARRAY) {
            throw new LoraException(option(o) + ": too large to export at a fixed size: the position embeddings "
                    + "of a " + size(gh, gw) + " patch grid (" + String.format(Locale.ROOT, "%.3g", values)
                    + " values) do not fit the arrays that build them (" + MAX_ARRAY + " elements each); use --dynamic or "
                    + "a smaller size");
        }
    }

    private static void requireArray(OnnxOptions o, long n, long h, long w) {
        if ((double) n * 3 * h * w > MAX_ARRAY) {
            throw new LoraException(option(o) + ": too large to export: the parity check's " + n + "x3x" + h + "x" + w
                    + " input would be more values than one Java array holds (" + MAX_ARRAY + "); use a smaller size");
        }
    }

    /** The estimate for an export of {@code c} ({@code parameters} values) with the certificate's image of imageH x imageW. */
    static Estimate estimate(ModelConfig c, long parameters, OnnxOptions o, long imageH, long imageW) {
        int p = c.patchSize();
        double e = o.fp16() ? 2 : 4;
        double gh = o.height() / p;
        double posValues = positionValues(c, o);
        double file = e * parameters + e * posValues;
        double build = o.dynamic() ? 2 * file : 4 * posValues + 4 * gh * c.posGrid() * c.embedDim() + 2 * file;
        double heapCheck = 2 * file;
        double torchModel = 4.0 * parameters;
        double session = 2 * file;
        double worstEngine = 0;
        double worstHeap = 0;
        String peak = "building the graph";
        double peakBytes = build;
        List<int[]> sizes = ParityCertificate.sizes(o, p);
        for (int[] s : sizes) {
            double n = s[0];
            double hw = (double) s[1] * s[2];
            double io = 4 * 3 * n * hw + 4 * n * hw;
            double torch = MemoryEstimate.inference(c, s[1], s[2], s[0], true)
                    + (double) MemoryEstimate.imagePreparation(imageH, imageW, s[1], s[2]) + io;
            // with symbolic shapes ONNX Runtime plans no memory ahead: its arena grows in powers of two and keeps
            // what it grew to across the certificate's sizes (measured: 12.0 GB peak RSS for the tiny model's
            // dynamic export at 1512, whose largest forward holds 6.5 GB of scores)
            double ort = (o.dynamic() ? 2 : 1) * (double) MemoryEstimate.inference(c, s[1], s[2], s[0], false) + io;
            worstEngine = Math.max(worstEngine, Math.max(torch, ort));
            worstHeap = Math.max(worstHeap, 4 * 3 * n * hw + 4 * 3 * hw + 2 * 4 * n * hw);
            double step = Math.max(torch, ort);
            if (step > peakBytes) {
                peakBytes = step;
                peak = (ort >= torch ? "ONNX Runtime's" : "the toolkit's") + " forward at " + s[0] + "x" + s[1] + "x"
                        + s[2] + " in the parity check";
            }
        }
        double heap = Math.max(build, heapCheck + worstHeap);
        double nat = session + torchModel + worstEngine;
        return new Estimate(saturate(heap), saturate(nat), peak);
    }

    /**
     * The limits, then (when {@code memoryCheck}) the estimate against the available memory and
     * the JVM's free heap: one line naming the size, the step that needs the most and
     * {@code --no-memory-check}.
     */
    static void require(ModelConfig c, long parameters, OnnxOptions o, long imageH, long imageW, boolean memoryCheck) {
        requireRepresentable(c, parameters, o);
        if (!memoryCheck) {
            return;
        }
        Estimate est = estimate(c, parameters, o, imageH, imageW);
        String what = "export --format onnx at " + o.height() + "x" + o.width() + (o.dynamic() ? " (dynamic)" : "")
                + ", " + est.peak();
        MemoryBudget.require(what, est.total(), MemoryCheck.OVERRIDE);
        MemoryBudget.requireHeap(what, est.heapBytes(), MemoryCheck.OVERRIDE);
    }
}
