package com.loratool.lora.export;

import com.loratool.LoraException;
import com.loratool.config.ModelSection;
import com.loratool.config.RunFolder;
import com.loratool.config.TrainSection;
import com.loratool.io.Checksums;
import com.loratool.io.HostTensor;
import com.loratool.lora.AdapterCheckpoint;
import com.loratool.lora.export.AdaptedWeights;
import com.loratool.model.BaseModel;
import com.loratool.model.ModelConfig;
import java.nio.file.Path;
import java.util.LinkedHashMap;

/**
 * The base model of a checkpoint (eval, export, predict --checkpoint) through the one base-model
 * loader ({@link BaseModel}): the verified base weights file, or, for runs on
 * {@code model.weights: random}, the same seeded random weights again (the run's train.seed);
 * plus the architecture (option, the checkpoint's record, the run's model.preset / model.config,
 * or inferred).
 */
public final class CheckpointBase {
    /** {@code cacheKey} identifies the weights for the prediction cache (SHA-256 of the file). */
    public record Base(LinkedHashMap<String, HostTensor> stateDict, ModelConfig config, String cacheKey, String description) {}

    private CheckpointBase() {}

    /** With {@code needConfig} false (export) a file base's architecture is not resolved (config null). */
    public static Base load(AdapterCheckpoint ck, RunFolder run, Path weightsOverride, Path modelConfigOption,
                     boolean needConfig) {
        ModelSection section = run.config() != null ? run.config().model : ModelSection.defaults();
        long seed = run.config() != null ? run.config().train.seed() : TrainSection.defaults().seed();
        ModelConfig explicit = modelConfigOption != null ? ModelConfig.fromYaml(modelConfigOption)
                : ck.modelConfig() != null
                ? ModelConfig.fromTree(ck.modelConfig(), ck.dir().resolve(AdapterCheckpoint.CONFIG)) : null;
        boolean random = weightsOverride == null && (ck.randomBase() || section.randomWeights());
        if (random) {
            if (BaseModel.architecture(explicit, section, null) == null) {
                throw new LoraException(ck.dir() + ": the base weights are seeded random numbers and the architecture "
                        + "is unknown (give --model-config FILE)");
            }
            BaseModel.Weights w = BaseModel.load(section, null, seed, explicit, "");
            AdaptedWeights.checkShapes(w.stateDict(), ck.adapters(), Path.of("random"));
            String key = "random-" + seed + "-" + Integer.toHexString(w.config().hashCode());
            return new Base(w.stateDict(), w.config(), key, "random (seed " + seed + ")");
        }
        Path file = ck.baseWeights(weightsOverride);
        LinkedHashMap<String, HostTensor> sd = AdaptedWeights.read(file, ck.adapters());
        String sha = ck.baseSha256() != null && !ck.baseSha256().isBlank() ? ck.baseSha256() : Checksums.sha256(file);
        ModelConfig cfg = needConfig ? BaseModel.architecture(explicit, section, sd, file) : null;
        return new Base(sd, cfg, sha, file + " (SHA-256 " + sha.substring(0, 12) + "...)");
    }
}
