package com.loratool.cli;

import com.loratool.LoraException;
import com.loratool.checkpoint.ModelResolver;
import com.loratool.config.ModelSection;
import com.loratool.io.HostTensor;
import com.loratool.io.Safetensors;
import com.loratool.lora.AdapterCheckpoint;
import com.loratool.lora.export.PeftAdapter;
import com.loratool.model.weights.PthWriter;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
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
        AdapterCheckpoint ck = AdapterCheckpoint.load(checkpoint);
        if (format == Format.peft) {
            if (alphaScale != 1) {
                throw new LoraException("--alpha-scale: only with --format merged (PEFT users scale with set_adapter weights)");
            }
            String base = ck.randomBase() ? ModelSection.RANDOM : ck.basePath();
            PeftAdapter.export(ck.adapters(), ck::scaling, ck.scaling(), ck.config().dropout, base).write(output);
            spec.commandLine().getOut().println("wrote " + output.resolve("adapter_config.json") + " and "
                    + output.resolve("adapter_model.safetensors") + " (" + ck.adapters().layers().size()
                    + " adapted modules, r " + ck.r() + ", alpha " + ck.alpha() + ")");
            return 0;
        }
        String name = output.getFileName().toString();
        boolean pth = name.endsWith(".pth") || name.endsWith(".pt");
        if (!pth && !name.endsWith(".safetensors")) {
            throw LoraException.file(output, "--format merged writes .pth or .safetensors");
        }
        LinkedHashMap<String, HostTensor> merged = ModelResolver.resolve(
                model.checkpointSource("lora export")).weights(alphaScale);
        if (pth) {
            PthWriter.write(output, merged);
        } else {
            Safetensors.write(output, merged, Map.of("format", "pt"));
        }
        spec.commandLine().getOut().println("wrote " + output + " (" + merged.size() + " tensors, " + ck.adapters().layers().size()
                + " merged modules, scaling " + alphaScale * ck.scaling().value() + ")");
        return 0;
    }
}
