package com.loratool.cli;

import com.loratool.LoraException;
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
                   int opset, boolean fp16, Path parityImage, PrintWriter out) {
        if (checkpoint == null && weights == null) {
            throw new LoraException("--format onnx: give --checkpoint DIR or --weights FILE");
        }
        if (!output.getFileName().toString().endsWith(".onnx")) {
            throw LoraException.file(output, "--format onnx writes a .onnx file");
        }
        int[] hw = size(inputSize == null ? "518" : inputSize);
        OnnxOptions o = new OnnxOptions(hw[0], hw[1], dynamic, opset, fp16);
        OnnxDeployment.Source s = OnnxDeployment.resolve(checkpoint, weights, modelConfig);
        o.checkPatch(s.config().patchSize());
        ParityCertificate c = OnnxDeployment.export(s, o, OnnxDeployment.metadata(s, o, Math.min(hw[0], hw[1])), output,
                parityImage);
        out.printf("wrote %s (%s, opset %d, %s%s) and %s: ONNX Runtime vs toolkit at %d size(s), max abs error "
                        + "%.3g, relative L2 %.3g (tolerance %.0e)%n", output, dynamic ? "dynamic" : hw[0] + "x" + hw[1],
                opset, fp16 ? "fp16" : "fp32", checkpoint != null ? ", adapters merged" : "",
                OnnxDeployment.certificatePath(output), c.checks().size(), c.maxAbsError(), c.relL2(), c.tolerance());
        out.flush();
        return 0;
    }

    static int[] size(String s) {
        try {
            String[] p = s.toLowerCase(Locale.ROOT).split("x");
            int h = Integer.parseInt(p[0].strip());
            int w = p.length > 1 ? Integer.parseInt(p[1].strip()) : h;
            if (p.length > 2) {
                throw new NumberFormatException();
            }
            return new int[] {h, w};
        } catch (NumberFormatException e) {
            throw new LoraException("--input-size " + s + ": expected N or HxW (multiples of 14)");
        }
    }
}
