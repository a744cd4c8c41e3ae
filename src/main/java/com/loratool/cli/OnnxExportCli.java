package com.loratool.cli;

import com.loratool.LoraException;
import com.loratool.checkpoint.ModelResolver;
import com.loratool.model.Da3Predictor;
import com.loratool.deploy.OnnxDeployment;
import com.loratool.deploy.OnnxOptions;
import com.loratool.deploy.ParityCertificate;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;

/** {@code lora export --format onnx}: options to {@link OnnxDeployment}, the certificate's figures printed. */
final class OnnxExportCli {
    private OnnxExportCli() {}

    static int run(Path checkpoint, Path weights, Path modelConfig, Path output, String inputSize, boolean dynamic,
                   int opset, boolean fp16, Path parityImage, boolean memoryCheck, PrintWriter out) {
        if (checkpoint == null && weights == null) {
            throw new LoraException("--format onnx: give --checkpoint DIR or --weights FILE");
        }
        if (!output.getFileName().toString().endsWith(".onnx")) {
            throw LoraException.file(output, "--format onnx writes a .onnx file");
        }
        int[] hw = size(inputSize == null ? "518" : inputSize);
        OnnxOptions o = new OnnxOptions(hw[0], hw[1], dynamic, opset, fp16);
        // Depth Anything 3 base weights and checkpoints export with outputs depth and sky
        OnnxDeployment.Source s = OnnxDeployment.resolve(checkpoint, weights, modelConfig,
                ModelResolver.Options.DEFAULT.runs("export", ModelResolver.Da3.ALL));
        o.checkPatch(s.config().patchSize());
        boolean da3 = s.config().isDa3();
        // a Depth Anything 3 dynamic graph: predict's default process_res is the official 504
        ParityCertificate c = OnnxDeployment.export(s, o, OnnxDeployment.metadata(s, o, da3 && dynamic
                ? Da3Predictor.DEFAULT_PROCESS_RES : Math.min(hw[0], hw[1])), output, parityImage, memoryCheck);
        out.printf("wrote %s (%s%s, opset %d, %s%s) and %s: ONNX Runtime vs toolkit at %d size(s)%s, max abs error "
                        + "%.3g, relative L2 %.3g (tolerance %.0e)%n", output,
                da3 ? "Depth Anything 3 " + s.config().family().yamlName() + ", " : "",
                dynamic ? "dynamic" : hw[0] + "x" + hw[1],
                opset, fp16 ? "fp16" : "fp32", checkpoint != null ? ", adapters merged" : "",
                OnnxDeployment.certificatePath(output), c.checks().size() / (da3 ? 2 : 1),
                da3 ? " on both outputs, depth and sky" : "", c.maxAbsError(), c.relL2(), c.tolerance());
        out.flush();
        return 0;
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
