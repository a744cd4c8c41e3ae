package com.loratool.cli;

import com.loratool.LoraException;
import com.loratool.checkpoint.ModelResolver;
import com.loratool.model.Da3Predictor;
import com.loratool.deploy.OnnxDeployment;
import com.loratool.deploy.OnnxOptions;
import com.loratool.deploy.ParityCertificate;
import com.loratool.deploy.TritonRepository;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;

/**
 * {@code lora export --format onnx} and {@code --format triton}: options to {@link OnnxDeployment} (or
 * {@link TritonRepository}), the certificate's figures printed.
 */
final class OnnxExportCli {
    private OnnxExportCli() {}

    static int run(Path checkpoint, Path weights, Path modelConfig, Path output, String inputSize, boolean dynamic,
                   int opset, boolean fp16, Path parityImage, boolean memoryCheck, PrintWriter out) {
        requireModel(checkpoint, weights, "onnx");
        if (!output.getFileName().toString().endsWith(".onnx")) {
            throw LoraException.file(output, "--format onnx writes a .onnx file");
        }
        OnnxOptions o = options(inputSize, dynamic, opset, fp16);
        OnnxDeployment.Source s = source(checkpoint, weights, modelConfig, o);
        ParityCertificate c = OnnxDeployment.export(s, o, metadata(s, o), output, parityImage, memoryCheck);
        out.printf("wrote %s (%s) and %s: %s%n", output, describe(s, o, checkpoint != null),
                OnnxDeployment.certificatePath(output), certified(s, c));
        out.flush();
        return 0;
    }

    /**
     * {@code lora export --format triton}: {@code repo/<name>/1/model.onnx}, its certificate and
     * {@code repo/<name>/config.pbtxt} ({@link TritonRepository}); name and batch checked, and the
     * model folder found free, before the model is read.
     */
    static int runTriton(Path checkpoint, Path weights, Path modelConfig, Path repo, TritonRepository.Settings settings,
                         String inputSize, boolean dynamic, int opset, boolean fp16, Path parityImage,
                         boolean memoryCheck, PrintWriter out) {
        requireModel(checkpoint, weights, "triton");
        OnnxOptions o = options(inputSize, dynamic, opset, fp16).asBatched();
        TritonRepository.requireFree(repo, settings);
        OnnxDeployment.Source s = source(checkpoint, weights, modelConfig, o);
        TritonRepository.Written w = TritonRepository.export(s, o, metadata(s, o), repo, settings, parityImage,
                memoryCheck);
        out.printf("wrote %s (Triton model '%s', platform %s, max_batch_size %d, input %s %s, output%s %s) with %s "
                        + "(%s) and its certificate: %s%n", w.folder(), settings.name(), TritonRepository.PLATFORM,
                settings.maxBatch(), w.modelConfig().getInput(0).getName(), w.modelConfig().getInput(0).getDimsList(),
                w.modelConfig().getOutputCount() > 1 ? "s" : "", w.modelConfig().getOutputList().stream()
                        .map(x -> x.getName() + " " + x.getDimsList()).toList(),
                w.model(), describe(s, o, checkpoint != null), certified(s, w.certificate()));
        out.flush();
        return 0;
    }

    private static void requireModel(Path checkpoint, Path weights, String format) {
        if (checkpoint == null && weights == null) {
            throw new LoraException("--format " + format + ": give --checkpoint DIR or --weights FILE");
        }
    }

    private static OnnxOptions options(String inputSize, boolean dynamic, int opset, boolean fp16) {
        int[] hw = size(inputSize == null ? "518" : inputSize);
        return new OnnxOptions(hw[0], hw[1], dynamic, opset, fp16);
    }

    private static OnnxDeployment.Source source(Path checkpoint, Path weights, Path modelConfig, OnnxOptions o) {
        // Depth Anything 3 base weights and checkpoints export with outputs depth and sky
        OnnxDeployment.Source s = OnnxDeployment.resolve(checkpoint, weights, modelConfig,
                ModelResolver.Options.DEFAULT.runs("export", ModelResolver.Da3.ALL));
        o.checkPatch(s.config().patchSize());
        return s;
    }

    private static Map<String, String> metadata(OnnxDeployment.Source s, OnnxOptions o) {
        // a Depth Anything 3 dynamic graph: predict's default process_res is the official 504
        return OnnxDeployment.metadata(s, o, s.config().isDa3() && o.dynamic()
                ? Da3Predictor.DEFAULT_PROCESS_RES : Math.min(o.height(), o.width()));
    }

    private static String describe(OnnxDeployment.Source s, OnnxOptions o, boolean merged) {
        return (s.config().isDa3() ? "Depth Anything 3 " + s.config().family().yamlName() + ", " : "")
                + (o.dynamic() ? "dynamic" : o.height() + "x" + o.width()) + ", opset " + o.opset() + ", "
                + (o.fp16() ? "fp16" : "fp32") + (merged ? ", adapters merged" : "");
    }

    private static String certified(OnnxDeployment.Source s, ParityCertificate c) {
        boolean da3 = s.config().isDa3();
        return String.format("ONNX Runtime vs toolkit at %d size(s)%s, max abs error %.3g, relative L2 %.3g "
                        + "(tolerance %.0e)", c.checks().size() / (da3 ? 2 : 1),
                da3 ? " on both outputs, depth and sky" : "", c.maxAbsError(), c.relL2(), c.tolerance());
    }

    /**
     * {@code N} or {@code HxW}, whole numbers (nothing else: no trailing {@code x}); a number past
     * the int range is "too large", not wrapped; positivity and the patch size are checked by
     * {@link OnnxOptions}, the limits of an export by the deployment.
     */
    static int[] size(String s) {
        String[] p = s.toLowerCase(Locale.ROOT).split("x", -1);
        long[] v = new long[p.length];
        try {
            if (p.length > 2) {
                throw new NumberFormatException();
            }
            for (int i = 0; i < p.length; i++) {
                v[i] = Long.parseLong(p[i].strip());
            }
        } catch (NumberFormatException e) {
            throw new LoraException("--input-size " + s + ": expected N or HxW, whole numbers (multiples of 14)");
        }
        long h = v[0];
        long w = p.length > 1 ? v[1] : h;
        if (h <= 0 || w <= 0) {
            throw new LoraException("--input-size " + s + ": must be positive");
        }
        if (h > Integer.MAX_VALUE || w > Integer.MAX_VALUE) {
            throw new LoraException("--input-size " + s + ": too large to export (at most " + Integer.MAX_VALUE
                    + " a side, and far less in practice)");
        }
        return new int[] {(int) h, (int) w};
    }
}
