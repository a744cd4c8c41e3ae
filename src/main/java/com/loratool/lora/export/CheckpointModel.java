package com.loratool.lora.export;

import ai.djl.ndarray.NDManager;
import com.loratool.config.RunFolder;
import com.loratool.lora.AdapterCheckpoint;
import com.loratool.lora.export.AdaptedWeights;
import com.loratool.lora.export.CheckpointBase;
import com.loratool.model.DepthAnythingV2;
import java.nio.file.Path;

/**
 * {@code lora predict --checkpoint DIR}: the model of a checkpoint folder, i.e. its adapters folded
 * into their verified base weights ({@code W + scaling * B A}; equal to the model with separate
 * adapter branches up to float rounding). {@code weights} optionally replaces the recorded base
 * weights path (still checked against the recorded SHA-256).
 */
public final class CheckpointModel {
    private CheckpointModel() {}

    public static DepthAnythingV2 load(Path checkpoint, Path weights, Path modelConfig, NDManager manager) {
        AdapterCheckpoint ck = AdapterCheckpoint.load(checkpoint);
        CheckpointBase.Base base = CheckpointBase.load(ck, RunFolder.of(checkpoint), weights, modelConfig, true);
        DepthAnythingV2 model = new DepthAnythingV2(base.config(), manager);
        model.load(AdaptedWeights.merged(base.stateDict(), ck, 1.0));
        return model;
    }
}
