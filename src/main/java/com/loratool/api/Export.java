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
import com.fasterxml.jackson.databind.JsonNode;
import com.loratool.io.Json;
import com.loratool.lora.export.AdaptedWeights;
import com.loratool.lora.export.MergedWeights;
import com.loratool.model.Da3Checkpoint;
import com.loratool.model.ModelConfig;
import com.loratool.lora.export.PeftAdapter;
import com.loratool.model.weights.PthWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * {@code lora export} and {@code lora import} for JVM code: a checkpoint's adapters folded into its
 * base weights (official names, {@code .pth} or {@code .safetensors}; a Depth Anything 3 checkpoint's
 * as the official Hugging Face folder), as a Hugging Face PEFT adapter, and a PEFT adapter back into a
 * checkpoint (on Depth Anything V2 or 3 base weights).
 *
 * <pre>{@code
 * Export.merged(new ModelSource.Checkpoint(Path.of("runs/smoke/best"), null, null), Path.of("merged.pth"), 1);
 * }</pre>
 */
public final class Export {
    private Export() {}

    /** What was written, in one line for the user. */
    public record Written(Path output, String summary) {}

    /**
     * W + alphaScale * scaling * B A for every adapted module, into {@code output}: for a Depth Anything V2
     * checkpoint a .pth, .pt or .safetensors file; for a Depth Anything 3 checkpoint a folder in the official
     * Hugging Face layout ({@link #mergedDa3}: model.safetensors + config.json).
     */
    public static Written merged(ModelSource.Checkpoint source, Path output, double alphaScale) {
        checkAlphaScale(alphaScale);
        boolean pth = isPth(output);
        boolean file = isWeightsFile(output);
        // the base weights the checkpoint records (found through its run folder) are an input like the checkpoint
        OutputGuard guard = OutputGuard.of("output", output).inputs(ModelResolver.files(source, "checkpoint"));
        if (!file) {
            guard.outputFiles("output", da3Files(output));
        }
        guard.check();
        ResolvedModel model = ModelResolver.resolve(source, ModelResolver.Options.DEFAULT.runs("export",
                ModelResolver.Da3.ALL));
        AdapterCheckpoint ck = model.adapters().orElseThrow();
        if (model.isDa3()) {
            if (file) {
                throw LoraException.file(output, "a Depth Anything 3 checkpoint's merged weights are a Hugging Face "
                        + "folder (model.safetensors + config.json, the official layout): give --output DIR");
            }
            return mergedDa3(model.provenance().file(), model.architecture(), model.baseWeights(), ck, output,
                    alphaScale);
        }
        if (!file) {
            throw LoraException.file(output, "--format merged writes .pth or .safetensors");
        }
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

    private static void checkAlphaScale(double alphaScale) {
        if (!(alphaScale >= 0) || Double.isInfinite(alphaScale)) {
            throw new LoraException("--alpha-scale " + alphaScale + ": must be a finite number >= 0");
        }
    }

    private static boolean isPth(Path output) {
        String name = output.getFileName().toString();
        return name.endsWith(".pth") || name.endsWith(".pt");
    }

    /** A merged-weights file name (.pth, .pt, .safetensors); anything else is a Depth Anything 3 folder. */
    public static boolean isWeightsFile(Path output) {
        return isPth(output) || output.getFileName().toString().endsWith(".safetensors");
    }

    /** The files {@link #mergedDa3} may write into the folder {@code dir}. */
    public static List<Path> da3Files(Path dir) {
        return List.of(dir.resolve(Da3Checkpoint.WEIGHTS), dir.resolve(Da3Checkpoint.CONFIG_JSON),
                dir.resolve(Da3Checkpoint.MODEL_YAML));
    }

    /**
     * Depth Anything 3: the checkpoint's adapters folded into its base weights ({@code base}, read
     * from {@code baseFile}) and written in the official Hugging Face layout into the folder
     * {@code dir} by {@link MergedWeights#writeDa3}: {@code model.safetensors} with the official key
     * names and {@code config.json}, whose {@code model_name} is the base's own {@code config.json}'s
     * (else the preset's, else {@code <family>-custom}); a {@code model.yaml} beside the base weights
     * is copied too (a non-preset architecture needs it). What {@code lora export --format merged}
     * writes for a Depth Anything 3 checkpoint.
     */
    public static Written mergedDa3(Path baseFile, ModelConfig cfg, Map<String, HostTensor> base, AdapterCheckpoint ck,
                                    Path dir, double alphaScale) {
        checkAlphaScale(alphaScale);
        if (Files.exists(dir.resolve(Da3Checkpoint.WEIGHTS)) || Files.exists(dir.resolve(Da3Checkpoint.CONFIG_JSON))) {
            throw LoraException.file(dir, "already holds model.safetensors or config.json (choose another --output)");
        }
        // a seeded random base (baseFile null) has no files beside it: the preset's name
        Path baseDir = baseFile == null ? null : Files.isDirectory(baseFile) ? baseFile : baseFile.toAbsolutePath().getParent();
        String modelName = null;
        Path json = baseDir == null ? null : baseDir.resolve(Da3Checkpoint.CONFIG_JSON);
        if (json != null && Files.isRegularFile(json)) {
            JsonNode root = Json.readFinite(json);
            if (root != null && root.has("model_name")) {
                modelName = root.get("model_name").asText();
            }
        }
        if (modelName == null && cfg.presetName().isEmpty()) {
            modelName = cfg.family().yamlName() + "-custom";
        }
        Path yaml = baseDir == null ? null : baseDir.resolve(Da3Checkpoint.MODEL_YAML);
        LinkedHashMap<String, HostTensor> merged = AdaptedWeights.merged(base, ck, alphaScale);
        MergedWeights.writeDa3(dir, merged, cfg, modelName, yaml != null && Files.isRegularFile(yaml) ? yaml : null);
        return new Written(dir, "wrote " + dir.resolve(Da3Checkpoint.WEIGHTS) + " and " + dir.resolve(
                Da3Checkpoint.CONFIG_JSON) + " (Depth Anything 3 " + cfg.family().yamlName() + ", " + merged.size()
                + " tensors, " + ck.adapters().layers().size() + " merged modules, scaling "
                + alphaScale * ck.scaling().value() + ")");
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
        // Depth Anything V2 or 3 base weights (a Depth Anything 3 adapter names the official modules)
        ResolvedModel base = ModelResolver.resolve(new ModelSource.Weights(weights, null),
                ModelResolver.Options.DEFAULT.runs("import", Set.of(ModelResolver.Da3.WEIGHTS)));
        // a Depth Anything 3 adapter names the official modules (model.backbone.*), a V2 one Hugging Face's
        boolean da3Adapter = adapter.tensors().keySet().stream().anyMatch(k -> PeftAdapter.isDa3(
                k.startsWith(PeftAdapter.PREFIX) ? k.substring(PeftAdapter.PREFIX.length()) : k));
        if (da3Adapter != base.isDa3()) {
            throw LoraException.file(peft, "is an adapter of a Depth Anything " + (da3Adapter ? "3" : "V2")
                    + " model, but --weights " + weights + " are Depth Anything " + (base.isDa3() ? "3" : "V2")
                    + " weights (give the base weights the adapter was trained on)");
        }
        // the target modules are matched against this model's layers and the tensors present
        PeftAdapter.Imported imp = adapter.toProject(peft, PeftAdapter.layersOf(base.baseWeights()));
        AdaptedWeights.checkShapes(base.baseWeights(), imp.adapters(), weights);
        AdapterCheckpoint.save(output, imp.adapters(), imp.scaling(), weights, base.provenance().sha256(), null,
                imp.modules());
        return new Written(output, "wrote " + output + " (" + imp.adapters().layers().size() + " adapted modules, r "
                + imp.scaling().r() + ", alpha " + imp.scaling().alpha() + ")");
    }
}
