package com.loratool.cli;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.loratool.LoraException;
import com.loratool.eval.RunInfo;
import com.loratool.io.Checksums;
import com.loratool.io.HostTensor;
import com.loratool.lora.AdapterCheckpoint;
import com.loratool.lora.export.AdaptedWeights;
import com.loratool.model.DepthAnythingV2;
import com.loratool.model.ModelConfig;
import com.loratool.model.nn.Parameter;
import com.loratool.train.RandomWeights;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The base model of a checkpoint (eval, export, predict --checkpoint): the verified base weights
 * file, or, for runs on {@code model.weights: random}, the same seeded random weights again;
 * plus the architecture (option, the run's model.preset / model.config, or inferred).
 */
final class CheckpointBase {
    /** {@code cacheKey} identifies the weights for the prediction cache (SHA-256 of the file). */
    record Base(LinkedHashMap<String, HostTensor> stateDict, ModelConfig config, String cacheKey, String description) {}

    private CheckpointBase() {}

    /** With {@code needConfig} false (export) a file base's architecture is not resolved (config null). */
    static Base load(AdapterCheckpoint ck, RunInfo run, Path weightsOverride, Path modelConfigOption,
                     boolean needConfig) {
        boolean random = weightsOverride == null && (ck.randomBase() || run.randomWeights());
        if (random) {
            ModelConfig cfg = architecture(ck, run, modelConfigOption, null);
            if (cfg == null) {
                throw new LoraException(ck.dir() + ": the base weights are seeded random numbers and the architecture "
                        + "is unknown (give --model-config FILE)");
            }
            long seed = run.trainSeed();
            Map<String, long[]> shapes = new LinkedHashMap<>();
            try (NDManager m = NDManager.newBaseManager(Device.cpu())) {
                for (Map.Entry<String, Parameter> e : new DepthAnythingV2(cfg, m).namedParameters().entrySet()) {
                    shapes.put(e.getKey(), e.getValue().shape().getShape());
                }
            }
            LinkedHashMap<String, HostTensor> sd = RandomWeights.of(shapes, seed);
            AdaptedWeights.checkShapes(sd, ck.adapters(), Path.of("random"));
            String key = "random-" + seed + "-" + Integer.toHexString(cfg.hashCode());
            return new Base(sd, cfg, key, "random (seed " + seed + ")");
        }
        Path file = ck.baseWeights(weightsOverride);
        LinkedHashMap<String, HostTensor> sd = AdaptedWeights.read(file, ck.adapters());
        String sha = ck.baseSha256() != null && !ck.baseSha256().isBlank() ? ck.baseSha256() : Checksums.sha256(file);
        ModelConfig cfg = needConfig ? architecture(ck, run, modelConfigOption, sd) : null;
        return new Base(sd, cfg, sha, file + " (SHA-256 " + sha.substring(0, 12) + "...)");
    }

    /** ModelConfig of a recorded {@code model_config} object (the model.yaml keys), via ModelConfig's YAML reader. */
    static ModelConfig fromJson(JsonNode node, Path source) {
        Path tmp = null;
        try {
            tmp = Files.createTempFile("model-config", ".yaml");
            ObjectNode root =
                    new ObjectMapper().createObjectNode();
            root.set("model", node);
            Files.writeString(tmp, root.toString()); // JSON is YAML
            return ModelConfig.fromYaml(tmp);
        } catch (IOException e) {
            throw LoraException.file(source, "cannot read model_config: " + e.getMessage(), e);
        } catch (LoraException e) {
            throw LoraException.file(source, "model_config: " + e.getMessage(), e);
        } finally {
            if (tmp != null) {
                try {
                    Files.deleteIfExists(tmp);
                } catch (IOException ignored) {
                    // temp file
                }
            }
        }
    }

    /** Architecture: option, the run's preset or config, the checkpoint's record, else inferred from sd (null: unknown). */
    static ModelConfig architecture(AdapterCheckpoint ck, RunInfo run, Path option, Map<String, HostTensor> sd) {
        if (option != null) {
            return ModelConfig.fromYaml(option);
        }
        if (ck.modelConfig() != null) {
            return fromJson(ck.modelConfig(), ck.dir().resolve(AdapterCheckpoint.CONFIG));
        }
        if (run.modelPreset() != null) {
            return ModelConfig.preset(run.modelPreset());
        }
        if (run.modelConfig() != null) {
            return ModelConfig.fromYaml(run.modelConfig());
        }
        return sd == null ? null : ModelConfig.inferFrom(sd);
    }
}
