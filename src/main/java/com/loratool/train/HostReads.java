package com.loratool.train;

import ai.djl.ndarray.NDArray;

/**
 * Every read of a training tensor from its device to the host goes through here (a seam the tests
 * count): the training step reads one 2-value tensor per optimiser step, checkpoints read the
 * adapters and moments once per epoch, diagnostics read more only when the run is stopping.
 */
final class HostReads {
    private long reads;
    private long values;

    float[] read(NDArray a) {
        reads++;
        values += a.size();
        return a.toFloatArray();
    }

    long reads() {
        return reads;
    }

    long values() {
        return values;
    }
}
