package com.loratool.bench;

import com.loratool.LoraException;
import java.util.List;

/**
 * What a benchmark times for one combination: a model with adapters and its training data, set
 * up by {@link Factory#open}. Everything it allocates is released by {@link #close()}, so that the
 * next combination starts from the same memory.
 */
public interface Workload extends AutoCloseable {
    /** Trainable (adapter) parameters. */
    long trainableParams();

    /**
     * Trains {@code epochs} epochs (every image once per epoch, in batches, one optimiser step per
     * batch) and returns each epoch's seconds, as the training loop measured them.
     */
    List<Double> trainEpochs(int epochs);

    /**
     * Inference over every image with the adapters merged (between {@link #beginInference} and
     * {@link #endInference}), in batches of the training batch size. Returns the number of images
     * predicted (0 if inference is not measured).
     */
    int inferAll();

    /** As {@link #inferAll()} on an engine: "libtorch" or "onnxruntime" (the merged model exported to ONNX). */
    default int inferAll(String engine) {
        if (!engine.equals(ENGINES.get(0))) {
            throw new LoraException("--engine " + engine + ": this workload runs only " + ENGINES.get(0));
        }
        return inferAll();
    }

    /** The inference engines a benchmark can time. */
    List<String> ENGINES = List.of("libtorch", "onnxruntime");

    /** Folds the adapters into the weights, once, outside any timing (the deployed model); returns its seconds. */
    default double beginInference() {
        return 0;
    }

    /** Takes the adapters back out (training goes on after inference). */
    default void endInference() {}

    /** GFLOP of one training step per image ({@code model.FlopCount}); NaN when unknown. */
    default double trainGflopPerImage() {
        return Double.NaN;
    }

    /** GFLOP of one forward pass per image; NaN when unknown. */
    default double inferGflopPerImage() {
        return Double.NaN;
    }

    @Override
    void close();

    /** Builds the workload of one combination. */
    interface Factory {
        Workload open(BenchSettings settings);

        /** Where it computes, e.g. "cpu()". */
        String device();
    }
}
