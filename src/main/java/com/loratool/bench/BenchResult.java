package com.loratool.bench;

import java.util.List;

/**
 * What one grid combination measured.
 *
 * @param settings          the combination
 * @param epochs            epochs the projection is for ({@code --epochs})
 * @param measuredEpochs    epochs timed (after the warm-up epochs)
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
 * @param efficiency        warm-up epochs, FLOPs per image and the machine's measured peak, or null
 */
public record BenchResult(BenchSettings settings, int epochs, int measuredEpochs, double epochSeconds,
                          List<Double> epochSecondsAll, double trainImagesPerS, double inferImagesPerS,
                          long trainableParams, double rssStartMb, double rssEndMb, double peakRssMb,
                          PeerFigures peer, String device, double peakGpuMb, Efficiency efficiency) {

    public BenchResult {
        epochSecondsAll = List.copyOf(epochSecondsAll);
    }

    /** A result without efficiency figures. */
    public BenchResult(BenchSettings settings, int epochs, int measuredEpochs, double epochSeconds,
                       List<Double> epochSecondsAll, double trainImagesPerS, double inferImagesPerS,
                       long trainableParams, double rssStartMb, double rssEndMb, double peakRssMb,
                       PeerFigures peer, String device, double peakGpuMb) {
        this(settings, epochs, measuredEpochs, epochSeconds, epochSecondsAll, trainImagesPerS, inferImagesPerS,
                trainableParams, rssStartMb, rssEndMb, peakRssMb, peer, device, peakGpuMb, null);
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
                inferImagesPerS, trainableParams, rssStartMb, rssEndMb, peakRssMb, p, device, peakGpuMb, efficiency);
    }

    public BenchResult withEfficiency(Efficiency e) {
        return new BenchResult(settings, epochs, measuredEpochs, epochSeconds, epochSecondsAll, trainImagesPerS,
                inferImagesPerS, trainableParams, rssStartMb, rssEndMb, peakRssMb, peer, device, peakGpuMb, e);
    }

    /** Fastest measured epoch, seconds. */
    public double epochSecondsMin() {
        return epochSecondsAll.stream().mapToDouble(Double::doubleValue).min().orElse(Double.NaN);
    }

    /** Slowest measured epoch, seconds. */
    public double epochSecondsMax() {
        return epochSecondsAll.stream().mapToDouble(Double::doubleValue).max().orElse(Double.NaN);
    }

    /** Achieved training GFLOP/s (model FLOPs per image times images per second); NaN without figures. */
    public double trainGflops() {
        return efficiency == null ? Double.NaN : efficiency.trainGflopPerImage() * trainImagesPerS;
    }

    /** Achieved inference GFLOP/s; NaN without figures or inference timing. */
    public double inferGflops() {
        return efficiency == null || inferImagesPerS <= 0 ? Double.NaN : efficiency.inferGflopPerImage() * inferImagesPerS;
    }

    /** Training GFLOP/s as a percentage of the measured matmul peak. */
    public double trainPercentOfPeak() {
        return efficiency == null ? Double.NaN : 100 * trainGflops() / efficiency.peakGflops();
    }

    /** Inference GFLOP/s as a percentage of the measured matmul peak. */
    public double inferPercentOfPeak() {
        return efficiency == null ? Double.NaN : 100 * inferGflops() / efficiency.peakGflops();
    }

    /**
     * How a result was measured against the machine's limit.
     *
     * @param warmupEpochs       untimed epochs run until two consecutive ones agreed (or the cap)
     * @param trainGflopPerImage GFLOP of one training step per image ({@code model.FlopCount})
     * @param inferGflopPerImage GFLOP of one forward per image
     * @param peakGflops         the machine's measured fp32 matmul GFLOP/s ({@link PeakProbe})
     */
    public record Efficiency(int warmupEpochs, double trainGflopPerImage, double inferGflopPerImage, double peakGflops) { }

    /** The PyTorch peer's figures for the same settings (one line of peer_train.py). */
    public record PeerFigures(String peer, double epochSeconds, double trainImagesPerS, double inferImagesPerS,
                              long trainable, int threads) { }
}
