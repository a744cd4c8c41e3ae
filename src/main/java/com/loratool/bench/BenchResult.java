package com.loratool.bench;

import java.util.List;

/**
 * What one grid combination measured.
 *
 * @param settings          the combination
 * @param epochs            epochs the projection is for ({@code --epochs})
 * @param measuredEpochs    epochs timed (after one warm-up epoch)
 * @param epochSeconds      median seconds of one measured training epoch
 * @param epochSecondsAll   every measured epoch's seconds, in order
 * @param trainImagesPerS   training images per second ({@code images / epochSeconds})
 * @param inferImagesPerS   inference images per second (adapters merged, batched), 0 if not measured
 * @param trainableParams   trainable (adapter) parameter count
 * @param rssStartMb        resident memory before the combination (MiB)
 * @param rssEndMb          resident memory after it, once its tensors were closed (MiB)
 * @param peakRssMb         peak resident memory during the combination (MiB; VmHWM, reset per combination where the kernel allows)
 * @param peer              the matching PyTorch peer figures, or null
 * @param device            where it computed (cpu(), gpu(0))
 * @param peakGpuMb         peak used GPU memory (MiB, {@link GpuMemory}); NaN on the CPU
 */
public record BenchResult(BenchSettings settings, int epochs, int measuredEpochs, double epochSeconds,
                          List<Double> epochSecondsAll, double trainImagesPerS, double inferImagesPerS,
                          long trainableParams, double rssStartMb, double rssEndMb, double peakRssMb,
                          PeerFigures peer, String device, double peakGpuMb) {

    public BenchResult {
        epochSecondsAll = List.copyOf(epochSecondsAll);
    }

    /** A CPU result (no GPU memory figure). */
    public BenchResult(BenchSettings settings, int epochs, int measuredEpochs, double epochSeconds,
                       List<Double> epochSecondsAll, double trainImagesPerS, double inferImagesPerS,
                       long trainableParams, double rssStartMb, double rssEndMb, double peakRssMb, PeerFigures peer) {
        this(settings, epochs, measuredEpochs, epochSeconds, epochSecondsAll, trainImagesPerS, inferImagesPerS,
                trainableParams, rssStartMb, rssEndMb, peakRssMb, peer, "cpu()", Double.NaN);
    }

    /** True when it computed on a GPU (and has a GPU memory figure). */
    public boolean onGpu() {
        return device.startsWith("gpu");
    }

    /** Projected training time for {@code epochs} epochs: measured seconds per epoch times epochs. */
    public double projectedSeconds() {
        return epochSeconds * epochs;
    }

    /** True when the time is projected (fewer epochs measured than asked for). */
    public boolean projected() {
        return measuredEpochs < epochs;
    }

    /** Peer's seconds per epoch over ours (above 1: this toolkit trains faster); NaN without a peer. */
    public double trainSpeedup() {
        return peer == null || epochSeconds <= 0 ? Double.NaN : peer.epochSeconds() / epochSeconds;
    }

    /** Our inference images/s over the peer's (above 1: faster); NaN without a peer. */
    public double inferSpeedup() {
        return peer == null || peer.inferImagesPerS() <= 0 || inferImagesPerS <= 0
                ? Double.NaN : inferImagesPerS / peer.inferImagesPerS();
    }

    public BenchResult withPeer(PeerFigures p) {
        return new BenchResult(settings, epochs, measuredEpochs, epochSeconds, epochSecondsAll, trainImagesPerS,
                inferImagesPerS, trainableParams, rssStartMb, rssEndMb, peakRssMb, p, device, peakGpuMb);
    }

    /** The PyTorch peer's figures for the same settings (one line of peer_train.py). */
    public record PeerFigures(String peer, double epochSeconds, double trainImagesPerS, double inferImagesPerS,
                              long trainable, int threads) { }
}
