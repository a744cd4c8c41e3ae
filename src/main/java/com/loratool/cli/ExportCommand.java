package com.loratool.cli;

import com.loratool.LoraException;
import com.loratool.api.Export;
import com.loratool.io.Finite;
import com.loratool.io.OutputGuard;
import com.loratool.deploy.OnnxDeployment;
import com.loratool.deploy.TritonRepository;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code lora export}: merged weights for the official code, or a PEFT adapter for Hugging Face. */
@Command(name = "export", mixinStandardHelpOptions = true,
        description = {"Export a checkpoint's adapters for the Python world.",
            "merged: W + scaling*B*A folded into the base weights, official key names (.pth for torch.load + "
                + "load_state_dict(strict=True), or .safetensors); a Depth Anything 3 checkpoint: a folder in the "
                + "official Hugging Face layout (model.safetensors + config.json).",
            "peft: adapter_config.json + adapter_model.safetensors for Hugging Face "
                + "DepthAnythingForDepthEstimation (a fused qkv adapter becomes query/key/value adapters sharing A); "
                + "Depth Anything 3: the official module names (model.backbone.pretrained.blocks.N.attn.qkv, ...).",
            "onnx: the graph and its parity certificate, from --weights or --checkpoint (adapters merged); a Depth "
                + "Anything 3 graph has a second output, sky, certified too.",
            "triton: a Triton Inference Server model repository: --output/<name>/1/model.onnx (the certified onnx "
                + "export, certified at batch 1 and 2) and --output/<name>/config.pbtxt (platform onnxruntime_onnx, "
                + "dynamic batching up to --max-batch)."})
public final class ExportCommand implements Callable<Integer> {
    public enum Format { merged, peft, onnx, triton }

    @Option(names = "--format", required = true, description = "merged, peft, onnx or triton.")
    Format format;

    @Option(names = "--output", required = true, paramLabel = "PATH",
            description = "merged: FILE.pth or FILE.safetensors (Depth Anything 3: a folder); peft: a folder; "
                    + "onnx: FILE.onnx; triton: the model repository's folder (created if missing; other models in "
                    + "it are left alone).")
    Path output;

    @Option(names = "--alpha-scale", defaultValue = "1", paramLabel = "S",
            description = "Scale the adapters' strength (merged only; 0 = the original weights). Default: ${DEFAULT-VALUE}.")
    double alphaScale;

    @Option(names = "--input-size", paramLabel = "N|HxW",
            description = "onnx, triton: the fixed input size, a multiple of 14 (default 518); with --dynamic the size the "
                    + "certificate checks first and predict's default shorter side.")
    String inputSize;

    @Option(names = "--dynamic", description = "onnx, triton: batch, height and width symbolic (multiples of 14); "
            + "triton: dims [3, -1, -1].")
    boolean dynamic;

    @Option(names = "--name", paramLabel = "NAME",
            description = "triton: the model's name, its folder in the repository and its URL name (default "
                    + TritonRepository.DEFAULT_NAME + ").")
    String name;

    @Option(names = "--max-batch", paramLabel = "N",
            description = "triton: max_batch_size, the largest batch Triton's dynamic batcher forms (default "
                    + TritonRepository.DEFAULT_MAX_BATCH + ").")
    Integer maxBatch;

    @Option(names = "--opset", defaultValue = "17", description = "onnx, triton: the ONNX opset (17..21). Default: ${DEFAULT-VALUE}.")
    int opset;

    @Option(names = "--fp16", description = "onnx, triton: fp16 weights and activations (LayerNorm, Softmax, last activation in fp32).")
    boolean fp16;

    @Option(names = "--parity-image", paramLabel = "FILE",
            description = "onnx, triton: the image the parity certificate runs (default: the reference fixture's photograph).")
    Path parityImage;

    @Mixin
    ModelOptions model;

    @Mixin
    MemoryCheckOption memory;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        Finite.option("--alpha-scale", alphaScale);
        // before any work: every file the model is read from, the base weights found through the checkpoint too
        TritonRepository.Settings triton = tritonSettings();
        OutputGuard guard = (format == Format.triton ? OutputGuard.ofFolder("--output", output)
                : OutputGuard.of("--output", output)).inputs(model.files()).input("--parity-image", parityImage);
        if (format == Format.onnx) {
            guard.output("--output's certificate", OnnxDeployment.certificatePath(output));
        } else if (format == Format.triton) {
            guard.outputFiles("--output", TritonRepository.files(output, triton.name()));
        } else if (format == Format.merged && !Export.isWeightsFile(output)) {
            guard.outputFiles("--output", Export.da3Files(output)); // a Depth Anything 3 checkpoint's folder
        } else if (format == Format.peft) {
            guard.outputFiles("--output", List.of(output.resolve("adapter_config.json"),
                    output.resolve("adapter_model.safetensors"))); // PeftAdapter.write's files
        }
        guard.check();
        if (format == Format.onnx) {
            return OnnxExportCli.run(model.checkpointOrNull(), model.weights(), model.modelConfig(), output, inputSize,
                    dynamic, opset, fp16, parityImage, memory.enabled(), spec.commandLine().getOut());
        }
        if (format == Format.triton) {
            return OnnxExportCli.runTriton(model.checkpointOrNull(), model.weights(), model.modelConfig(), output,
                    triton, inputSize, dynamic, opset, fp16, parityImage, memory.enabled(), spec.commandLine().getOut());
        }
        Path checkpoint = model.checkpoint("lora export --format " + format);
        Export.Written w;
        if (format == Format.peft) {
            if (alphaScale != 1) {
                throw new LoraException("--alpha-scale: only with --format merged (PEFT users scale with set_adapter weights)");
            }
            w = Export.peft(checkpoint, output);
        } else {
            w = Export.merged(model.checkpointSource("lora export"), output, alphaScale);
        }
        spec.commandLine().getOut().println(w.summary());
        return 0;
    }

    /** --name and --max-batch: checked for triton, refused with the other formats (null there). */
    private TritonRepository.Settings tritonSettings() {
        if (format != Format.triton) {
            if (name != null || maxBatch != null) {
                throw new LoraException((name != null ? "--name" : "--max-batch") + ": only with --format triton");
            }
            return null;
        }
        return new TritonRepository.Settings(name == null ? TritonRepository.DEFAULT_NAME : name,
                maxBatch == null ? TritonRepository.DEFAULT_MAX_BATCH : maxBatch);
    }
}
