package com.loratool.bench;

import com.loratool.LoraException;
import java.nio.file.Path;

/**
 * Builds the benchmark's workloads: the model (once per architecture), and per combination
 * fresh LoRA adapters, data (synthetic or from the config) and the training step.
 */
public final class Workloads {
    private Workloads() { }

    /** Shared state of a benchmark run: the engine, device and models; closes them all. */
    public interface Setup extends Workload.Factory, AutoCloseable {
        /** The settings axes default to (from the config, or the study's baseline). */
        BenchSettings baseSettings();

        int threads();

        /** Builds what the combinations share (models) before memory is first measured. */
        default void prepare(java.util.List<BenchSettings> combos) { }

        @Override
        void close();
    }

    public static Setup create(Path config, boolean synthetic, String device, int threads) {
        throw new LoraException("benchmark: needs the model and the training step, which are not in this build yet");
    }
}
