package com.loratool.cli;

import com.loratool.api.Export;
import com.loratool.checkpoint.ModelResolver;
import com.loratool.checkpoint.ModelSource;
import com.loratool.io.OutputGuard;
import com.loratool.lora.AdapterCheckpoint;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Option;

/** {@code lora import --peft DIR}: a Hugging Face PEFT adapter becomes a checkpoint folder. */
@Command(name = "import", mixinStandardHelpOptions = true,
        description = {"Bring a Hugging Face PEFT LoRA adapter (DepthAnythingForDepthEstimation) back as a "
                + "checkpoint folder usable by eval, export and predict --checkpoint.",
            "A complete query/key/value triple fuses exactly into one qkv adapter (A stacked, B block-diagonal);",
            "a subset (e.g. query, value) becomes qkv slices. DoRA adapters (use_dora) are read too.",
            "Depth Anything 3: an adapter on the official module names (model.backbone.pretrained.blocks.N.attn.qkv, "
                + "as lora export --format peft writes) onto DA3 base weights."})
public final class ImportCommand implements Callable<Integer> {
    @Option(names = "--peft", required = true, paramLabel = "DIR",
            description = "Folder with adapter_config.json and adapter_model.safetensors.")
    Path peft;

    @Option(names = "--weights", required = true, paramLabel = "FILE",
            description = "The base weights the adapter belongs to (official .pth or HF .safetensors; Depth Anything 3: "
                    + "its model.safetensors).")
    Path weights;

    @Option(names = "--output", required = true, paramLabel = "DIR", description = "Checkpoint folder to write.")
    Path output;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        OutputGuard.ofFolder("--output", output).input("--peft", peft)
                .inputs(ModelResolver.files(new ModelSource.Weights(weights, null), "--weights"))
                .outputFiles("--output", List.of(output.resolve(AdapterCheckpoint.WEIGHTS),
                        output.resolve(AdapterCheckpoint.CONFIG))).check();
        spec.commandLine().getOut().println(Export.importPeft(peft, weights, output).summary());
        return 0;
    }
}
