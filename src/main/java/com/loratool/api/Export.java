package com.loratool.api;

import com.loratool.LoraException;
import com.loratool.checkpoint.ModelResolver;
import com.loratool.checkpoint.ModelSource;
import com.loratool.checkpoint.ResolvedModel;
import com.loratool.config.ModelSection;
import com.loratool.io.Finite;
import com.loratool.io.HostTensor;
import com.loratool.io.OutputGuard;
import com.loratool.io.Safetensors;
import com.loratool.lora.AdapterCheckpoint;
import com.loratool.lora.export.AdaptedWeights;
import com.loratool.lora.export.PeftAdapter;
import com.loratool.model.weights.PthWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * {@code lora export} and {@code lora import} for JVM code: a checkpoint's adapters folded into its
 * base weights (official names, {@code .pth} or {@code .safetensors}), as a Hugging Face PEFT
 * adapter, and a PEFT adapter back into a checkpoint.
 *
 * <pre>{@code
 * Export.merged(new ModelSource.Checkpoint(Path.of("runs/smoke/best"), null, null), Path.of("merged.pth"), 1);
 * }</pre>
 */
public final class Export {
    private Export() {}

    /** What was written, in one line for the user. */
    public record Written(Path output, String summary) {}

    /** W + alphaScale * scaling * B A for every adapted module, into {@code output} (.pth, .pt or .safetensors). */
    public static Written merged(ModelSource.Checkpoint source, Path output, double alphaScale) {
        if (!(alphaScale >= 0) || Double.isInfinite(alphaScale)) {
            throw new LoraException("--alpha-scale " + alphaScale + ": must be a finite number >= 0");
        }
        String name = output.getFileName().toString();
        boolean pth = name.endsWith(".pth") || name.endsWith(".pt");
        if (!pth && !name.endsWith(".safetensors")) {
            throw LoraException.file(output, "--format merged writes .pth or .safetensors");
        }
        // the base weights the checkpoint records (found through its run folder) are an input like the checkpoint
        OutputGuard.of("output", output).inputs(ModelResolver.files(source, "checkpoint")).check();
        ResolvedModel model = ModelResolver.resolve(source);
        AdapterCheckpoint ck = model.adapters().orElseThrow();
        LinkedHashMap<String, HostTensor> merged = model.weights(alphaScale);
        merged.forEach((k, t) -> Finite.require(output, "merged tensor '" + k + "'", t.data())); // nothing non-finite written
        if (pth) {
            PthWriter.write(output, merged);
        } else {
            Safetensors.write(output, merged, Map.of("format", "pt"));
        }
        return new Written(output, "wrote " + output + " (" + merged.size() + " tensors, " + ck.adapters().layers().size()
                + " merged modules, scaling " + alphaScale * ck.scaling().value() + ")");
    }

    /** The checkpoint as a PEFT adapter folder (adapter_config.json + adapter_model.safetensors); needs no base weights. */
    public static Written peft(Path checkpoint, Path output) {
        AdapterCheckpoint ck = AdapterCheckpoint.load(checkpoint);
        String base = ck.randomBase() ? ModelSection.RANDOM : ck.basePath();
        PeftAdapter.export(ck.adapters(), ck::scaling, ck.scaling(), ck.config().lora().dropout(), base, ck.modules())
                .write(output);
        return new Written(output, "wrote " + output.resolve("adapter_config.json") + " and "
                + output.resolve("adapter_model.safetensors") + " (" + ck.adapters().layers().size()
                + " adapted modules, r " + ck.r() + ", alpha " + ck.alpha()
                + (ck.modules().isEmpty() ? "" : "; " + ck.modules().size() + " fully trained tensors as modules_to_save")
                + ")");
    }

    /** A PEFT adapter ({@code peft}: adapter_config.json + adapter_model.safetensors) on {@code weights} as a checkpoint folder. */
    public static Written importPeft(Path peft, Path weights, Path output) {
        if (Files.exists(output.resolve(AdapterCheckpoint.WEIGHTS))) {
            throw LoraException.file(output, "already holds a checkpoint (choose another --output)");
        }
        PeftAdapter adapter = PeftAdapter.read(peft);
        if (!Files.isRegularFile(weights)) {
            throw LoraException.file(weights, "file not found");
        }
        ResolvedModel base = ModelResolver.resolve(new ModelSource.Weights(weights, null));
        // the target modules are matched against this model's layers and the tensors present
        PeftAdapter.Imported imp = adapter.toProject(peft, PeftAdapter.layersOf(base.baseWeights()));
        AdaptedWeights.checkShapes(base.baseWeights(), imp.adapters(), weights);
        AdapterCheckpoint.save(output, imp.adapters(), imp.scaling(), weights, base.provenance().sha256(), null,
                imp.modules());
        return new Written(output, "wrote " + output + " (" + imp.adapters().layers().size() + " adapted modules, r "
                + imp.scaling().r() + ", alpha " + imp.scaling().alpha() + ")");
    }
}
