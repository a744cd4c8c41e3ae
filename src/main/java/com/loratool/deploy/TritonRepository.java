package com.loratool.deploy;

import com.google.protobuf.TextFormat;
import com.loratool.LoraException;
import com.loratool.deploy.proto.TritonModelConfig;
import com.loratool.deploy.proto.TritonModelConfig.DataType;
import com.loratool.deploy.proto.TritonModelConfig.ModelDynamicBatching;
import com.loratool.deploy.proto.TritonModelConfig.ModelInput;
import com.loratool.deploy.proto.TritonModelConfig.ModelInstanceGroup;
import com.loratool.deploy.proto.TritonModelConfig.ModelOutput;
import com.loratool.io.AtomicFiles;
import com.loratool.io.Interrupts;
import com.loratool.model.ModelConfig;
import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * {@code lora export --format triton}: one model of an NVIDIA Triton Inference Server model
 * repository, served by Triton's ONNX Runtime backend.
 *
 * <pre>
 * repo/&lt;name&gt;/config.pbtxt            platform onnxruntime_onnx, max_batch_size, input, output,
 *                                     dynamic_batching, instance_group
 * repo/&lt;name&gt;/1/model.onnx           the certified export ({@link OnnxDeployment#export})
 * repo/&lt;name&gt;/1/model.onnx.json      its parity certificate, beside it as --format onnx writes it
 * </pre>
 *
 * <p>The batch dimension of the graph is symbolic ({@link OnnxExport#BATCH}), as Triton requires of a
 * model with {@code max_batch_size > 0}; config.pbtxt's dims leave it out (Triton adds it) and are
 * the graph's own ({@link OnnxExport#inputs}, {@link OnnxExport#outputs}), -1 where the graph's are
 * symbolic ({@code --dynamic}). The certificate checks batch 2 as well as batch 1
 * ({@link OnnxOptions#batched}), since Triton's dynamic batcher runs batches.
 *
 * <p>config.pbtxt is protobuf text format printed by protobuf's {@link TextFormat} from a
 * {@code ModelConfig} built with classes generated from {@code src/main/proto/triton} (Triton's
 * {@code model_config.proto}, the fields lora writes, numbered as Triton numbers them).
 *
 * <p>All or nothing: everything is written into a hidden staging folder {@code repo/.<name>.<pid>.<n>.tmp}
 * and renamed to {@code repo/<name>} in one move at the end; a failed export (a certificate above
 * its tolerance, a full disk, an interrupt) leaves no {@code <name>} folder, and a repository folder
 * the export created is removed again.
 */
public final class TritonRepository {
    public static final String PLATFORM = "onnxruntime_onnx";
    public static final String CONFIG = "config.pbtxt";
    public static final String VERSION = "1";
    public static final String MODEL = "model.onnx";
    public static final String DEFAULT_NAME = "depth";
    public static final int DEFAULT_MAX_BATCH = 8;
    /** A batch past this does not fit a machine at these image sizes (1024 x 3 x 518 x 518 floats is 3.3 GB of input). */
    public static final int MAX_BATCH_LIMIT = 1024;
    /** How long Triton's dynamic batcher waits to fill a batch: 5 ms, as {@code lora serve}'s {@code --max-delay-ms 5}. */
    public static final long QUEUE_DELAY_MICROSECONDS = 5_000;
    /** Model names Triton, a URL path ({@code /v2/models/<name>/infer}) and every file system take as they are. */
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]{0,63}");

    private TritonRepository() {}

    /** The model's name (its folder and URL name) and the largest batch Triton may form. */
    public record Settings(String name, int maxBatch) {
        public Settings {
            if (name == null || !NAME.matcher(name).matches()) {
                throw new LoraException("--name " + (name == null ? "" : name) + ": a Triton model name is 1 to 64 "
                        + "letters, digits, '_', '-' or '.', starting with a letter or digit (it is a folder and a "
                        + "URL path)");
            }
            if (maxBatch < 1 || maxBatch > MAX_BATCH_LIMIT) {
                throw new LoraException("--max-batch " + maxBatch + ": must be 1 to " + MAX_BATCH_LIMIT
                        + " (Triton batches requests up to it; the graph's batch dimension is symbolic)");
            }
        }
    }

    /** What was written. */
    public record Written(Path folder, Path model, Path config, ParityCertificate certificate,
                          TritonModelConfig.ModelConfig modelConfig) {}

    /** {@code repo/<name>}. */
    public static Path folder(Path repo, String name) {
        return repo.resolve(name);
    }

    /** {@code repo/<name>/1/model.onnx}. */
    public static Path model(Path repo, String name) {
        return folder(repo, name).resolve(VERSION).resolve(MODEL);
    }

    /** {@code repo/<name>/config.pbtxt}. */
    public static Path config(Path repo, String name) {
        return folder(repo, name).resolve(CONFIG);
    }

    /** Every file the export writes (for the output guard). */
    public static List<Path> files(Path repo, String name) {
        return List.of(config(repo, name), model(repo, name), OnnxDeployment.certificatePath(model(repo, name)));
    }

    /**
     * Refuses, before any work, a repository that is a file, one whose parent folder is missing,
     * and a model folder that exists already (Triton would serve a mix of two exports; remove it or
     * choose another --name).
     */
    public static void requireFree(Path repo, Settings s) {
        Path abs = repo.toAbsolutePath();
        if (Files.exists(abs) && !Files.isDirectory(abs)) {
            throw LoraException.file(repo, "--output: exists and is not a folder (give the model repository's folder)");
        }
        if (!Files.exists(abs) && (abs.getParent() == null || !Files.isDirectory(abs.getParent()))) {
            throw LoraException.file(repo, "--output: the folder " + abs.getParent() + " does not exist");
        }
        Path target = folder(abs, s.name());
        if (Files.exists(target, LinkOption.NOFOLLOW_LINKS)) {
            throw LoraException.file(folder(repo, s.name()), "already exists in the model repository (remove it, or "
                    + "choose another --name); nothing written");
        }
    }

    /** The config.pbtxt for a graph of {@code cfg} exported with {@code o}: its inputs, outputs and batching. */
    public static TritonModelConfig.ModelConfig modelConfig(ModelConfig cfg, OnnxOptions o, Settings s) {
        TritonModelConfig.ModelConfig.Builder b = TritonModelConfig.ModelConfig.newBuilder().setName(s.name())
                .setPlatform(PLATFORM).setMaxBatchSize(s.maxBatch()).setDefaultModelFilename(MODEL);
        for (OnnxExport.Port in : OnnxExport.inputs(cfg, o)) {
            b.addInput(ModelInput.newBuilder().setName(in.name()).setDataType(DataType.TYPE_FP32)
                    .setFormat(ModelInput.Format.FORMAT_NCHW).addAllDims(dimsAfterBatch(in)));
        }
        for (OnnxExport.Port out : OnnxExport.outputs(cfg, o)) {
            b.addOutput(ModelOutput.newBuilder().setName(out.name()).setDataType(DataType.TYPE_FP32)
                    .addAllDims(dimsAfterBatch(out)));
        }
        b.setDynamicBatching(ModelDynamicBatching.newBuilder().setMaxQueueDelayMicroseconds(QUEUE_DELAY_MICROSECONDS));
        b.addInstanceGroup(ModelInstanceGroup.newBuilder().setCount(1).setKind(ModelInstanceGroup.Kind.KIND_AUTO));
        return b.build();
    }

    /** A port's dims without the leading (symbolic) batch dimension; symbolic ones as -1. */
    static List<Long> dimsAfterBatch(OnnxExport.Port p) {
        if (!OnnxExport.BATCH.equals(p.dims().get(0))) {
            throw new IllegalStateException(p.name() + ": the first dimension is not the symbolic batch");
        }
        return p.dims().subList(1, p.dims().size()).stream()
                .map(d -> d instanceof Integer n ? (long) n : -1L).toList();
    }

    /** config.pbtxt's text: a comment naming the toolkit, then protobuf text format. */
    public static String text(TritonModelConfig.ModelConfig c, String version) {
        return "# Triton model configuration written by " + version + " (lora export --format triton)\n"
                + TextFormat.printer().printToString(c);
    }

    /**
     * Writes {@code repo/<settings.name>} (see the class comment) from the merged weights {@code s},
     * or fails with nothing of it written. {@code o} is certified for batches whatever it says.
     */
    public static Written export(OnnxDeployment.Source s, OnnxOptions o, Map<String, String> metadata, Path repo,
                                 Settings settings, Path image, boolean memoryCheck) {
        requireFree(repo, settings);
        OnnxOptions batched = o.asBatched();
        TritonModelConfig.ModelConfig config = modelConfig(s.config(), batched, settings);
        Path abs = repo.toAbsolutePath();
        boolean createdRepo = !Files.exists(abs);
        Path staging = null;
        boolean moved = false;
        try {
            Files.createDirectories(abs);
            // not createTempDirectory: its folder is private to this user (0700), and Triton may run as another
            staging = Files.createDirectory(abs.resolve("." + settings.name() + "." + ProcessHandle.current().pid()
                    + "." + System.nanoTime() + ".tmp"));
            Path stagingDir = staging;
            try (Interrupts.Scope cleanup = Interrupts.onInterrupt(() -> {
                deleteQuietly(stagingDir);
                if (createdRepo) {
                    removeIfEmpty(abs);
                }
            })) {
                Path versionDir = Files.createDirectory(staging.resolve(VERSION));
                ParityCertificate cert = OnnxDeployment.export(s, batched, metadata, versionDir.resolve(MODEL), image,
                        memoryCheck);
                AtomicFiles.writeString(staging.resolve(CONFIG), text(config, OnnxDeployment.version()));
                Path target = folder(abs, settings.name());
                try {
                    Files.move(staging, target, StandardCopyOption.ATOMIC_MOVE);
                } catch (AtomicMoveNotSupportedException e) {
                    Files.move(staging, target);
                }
                moved = true;
                return new Written(folder(repo, settings.name()), model(repo, settings.name()),
                        config(repo, settings.name()), cert, config);
            }
        } catch (IOException e) {
            throw LoraException.file(folder(repo, settings.name()), "cannot write the model repository ("
                    + e.getMessage() + "); nothing written", e);
        } finally {
            if (!moved) {
                if (staging != null) {
                    deleteQuietly(staging);
                }
                if (createdRepo) {
                    removeIfEmpty(abs);
                }
            }
        }
    }

    /** The repository folder this export created, when nothing else was written there meanwhile. */
    private static void removeIfEmpty(Path dir) {
        try {
            Files.deleteIfExists(dir);
        } catch (IOException ignored) {
            // not empty (someone else wrote there): not ours to remove
        }
    }

    private static void deleteQuietly(Path p) {
        try {
            AtomicFiles.deleteTree(p);
        } catch (LoraException ignored) {
            // best effort: the staging folder of a failed export
        }
    }
}
