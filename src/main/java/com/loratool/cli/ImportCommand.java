package com.loratool.cli;

import com.loratool.LoraException;
import com.loratool.io.Checksums;
import com.loratool.lora.AdapterCheckpoint;
import com.loratool.lora.export.AdaptedWeights;
import com.loratool.lora.export.PeftAdapter;
import com.loratool.model.weights.StateDicts;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code lora import --peft DIR}: a Hugging Face PEFT adapter becomes a checkpoint folder. */
@Command(name = "import", mixinStandardHelpOptions = true,
        description = {"Bring a Hugging Face PEFT LoRA adapter (DepthAnythingForDepthEstimation) back as a "
                + "checkpoint folder usable by eval, export and predict --checkpoint.",
            "A complete query/key/value triple fuses exactly into one qkv adapter (A stacked, B block-diagonal);",
            "a subset (e.g. query, value) becomes qkv slices. DoRA adapters (use_dora) are read too."})
public final class ImportCommand implements Callable<Integer> {
    @Option(names = "--peft", required = true, paramLabel = "DIR",
            description = "Folder with adapter_config.json and adapter_model.safetensors.")
    Path peft;

    @Option(names = "--weights", required = true, paramLabel = "FILE",
            description = "The base weights the adapter belongs to (official .pth or HF .safetensors).")
    Path weights;

    @Option(names = "--output", required = true, paramLabel = "DIR", description = "Checkpoint folder to write.")
    Path output;

    @Override
    public Integer call() {
        if (Files.exists(output.resolve(AdapterCheckpoint.WEIGHTS))) {
            throw LoraException.file(output, "already holds a checkpoint (choose another --output)");
        }
        PeftAdapter.Imported imp = PeftAdapter.read(peft).toProject(peft);
        if (!Files.isRegularFile(weights)) {
            throw LoraException.file(weights, "file not found");
        }
        AdaptedWeights.checkShapes(StateDicts.read(weights), imp.adapters(), weights);
        AdapterCheckpoint.save(output, imp.adapters(), imp.scaling(), weights,
                Checksums.sha256(weights), null, imp.modules());
        System.out.println("wrote " + output + " (" + imp.adapters().layers().size() + " adapted modules, r "
                + imp.scaling().r() + ", alpha " + imp.scaling().alpha() + ")");
        return 0;
    }
}
