package com.loratool.cli;

import com.loratool.LoraException;
import com.loratool.api.Export;
import java.nio.file.Path;
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
                + "load_state_dict(strict=True), or .safetensors).",
            "peft: adapter_config.json + adapter_model.safetensors for Hugging Face "
                + "DepthAnythingForDepthEstimation (a fused qkv adapter becomes query/key/value adapters sharing A)."})
public final class ExportCommand implements Callable<Integer> {
    public enum Format { merged, peft }

    @Option(names = "--format", required = true, description = "merged or peft.")
    Format format;

    @Option(names = "--output", required = true, paramLabel = "PATH",
            description = "merged: FILE.pth or FILE.safetensors; peft: a folder.")
    Path output;

    @Option(names = "--alpha-scale", defaultValue = "1", paramLabel = "S",
            description = "Scale the adapters' strength (merged only; 0 = the original weights). Default: ${DEFAULT-VALUE}.")
    double alphaScale;

    @Mixin
    ModelOptions model;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        Path checkpoint = model.checkpoint("lora export");
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
}
