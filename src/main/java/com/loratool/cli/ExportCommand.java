package com.loratool.cli;

import com.loratool.LoraException;
import com.loratool.config.RunFolder;
import com.loratool.io.HostTensor;
import com.loratool.io.Safetensors;
import com.loratool.lora.AdapterCheckpoint;
import com.loratool.lora.export.AdaptedWeights;
import com.loratool.lora.export.CheckpointBase;
import com.loratool.lora.export.PeftAdapter;
import com.loratool.model.weights.PthWriter;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
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

    @Option(names = "--checkpoint", required = true, paramLabel = "DIR",
            description = "Checkpoint folder, e.g. runs/<run>/best.")
    Path checkpoint;

    @Option(names = "--format", required = true, description = "merged or peft.")
    Format format;

    @Option(names = "--output", required = true, paramLabel = "PATH",
            description = "merged: FILE.pth or FILE.safetensors; peft: a folder.")
    Path output;

    @Option(names = "--weights", paramLabel = "FILE",
            description = "Base weights, if not at the path recorded in the checkpoint (checked against its SHA-256).")
    Path weights;

    @Option(names = "--model-config", paramLabel = "FILE",
            description = "Architecture YAML, only needed for runs on seeded random base weights without a run config.")
    Path modelConfig;

    @Option(names = "--alpha-scale", defaultValue = "1", paramLabel = "S",
            description = "Scale the adapters' strength (merged only; 0 = the original weights). Default: ${DEFAULT-VALUE}.")
    double alphaScale;

    @Override
    public Integer call() {
        AdapterCheckpoint ck = AdapterCheckpoint.load(checkpoint);
        if (format == Format.peft) {
            if (alphaScale != 1) {
                throw new LoraException("--alpha-scale: only with --format merged (PEFT users scale with set_adapter weights)");
            }
            String base = ck.randomBase() ? "random" : ck.basePath();
            PeftAdapter.export(ck.adapters(), ck::scaling, ck.scaling(), ck.config().dropout, base, ck.modules())
                    .write(output);
            System.out.println("wrote " + output.resolve("adapter_config.json") + " and "
                    + output.resolve("adapter_model.safetensors") + " (" + ck.adapters().layers().size()
                    + " adapted modules, r " + ck.r() + ", alpha " + ck.alpha()
                    + (ck.modules().isEmpty() ? "" : "; " + ck.modules().size() + " fully trained tensors as modules_to_save")
                    + ")");
            return 0;
        }
        String name = output.getFileName().toString();
        boolean pth = name.endsWith(".pth") || name.endsWith(".pt");
        if (!pth && !name.endsWith(".safetensors")) {
            throw LoraException.file(output, "--format merged writes .pth or .safetensors");
        }
        LinkedHashMap<String, HostTensor> merged = AdaptedWeights.merged(
                CheckpointBase.load(ck, RunFolder.of(checkpoint), weights, modelConfig, false).stateDict(),
                ck, alphaScale);
        if (pth) {
            PthWriter.write(output, merged);
        } else {
            Safetensors.write(output, merged, Map.of("format", "pt"));
        }
        System.out.println("wrote " + output + " (" + merged.size() + " tensors, " + ck.adapters().layers().size()
                + " merged modules, scaling " + alphaScale * ck.scaling().value() + ")");
        return 0;
    }
}
