package com.loratool.bench;

import ai.djl.Device;
import com.loratool.LoraException;
import com.loratool.io.AtomicFiles;
import com.loratool.train.ProcessMemory;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Runs each combination: untimed warm-up epochs until two consecutive ones agree within
 * {@link #WARMUP_AGREEMENT} (at least 2, at most {@link #MAX_WARMUP}: native allocator, kernel
 * caches and the JIT settle), {@code measureEpochs} timed epochs, then one warm-up and one timed inference pass with merged
 * adapters. Resident memory is read before and after each combination (after its tensors were
 * closed and a GC ran) and its peak reset per combination, so leaks show as growing start/end
 * figures. A progress line per combination goes to {@code progress}.
 */
public final class BenchRunner {
    /** Consecutive warm-up epochs within this fraction of each other end the warm-up. */
    public static final double WARMUP_AGREEMENT = 0.05;
    public static final int MAX_WARMUP = 5;
    private final Workload.Factory factory;
    private final int epochs;
    private final int measureEpochs;
    private final boolean measureInference;
    private final PeerBaseline baseline;
    private final PrintStream progress;
    private Path profileDir;
    private Device device = Device.cpu();
    private double peakGflops = Double.NaN;
    private final StringBuilder profileMd = new StringBuilder();
    private List<String> engines = List.of("libtorch");
    private final List<String> engineRows = new ArrayList<>();

    public BenchRunner(Workload.Factory factory, int epochs, int measureEpochs, boolean measureInference,
                       PeerBaseline baseline, PrintStream progress) {
        if (epochs < 1) {
            throw new LoraException("--epochs: must be >= 1, got " + epochs);
        }
        if (measureEpochs < 1) {
            throw new LoraException("--measure-epochs: must be >= 1, got " + measureEpochs);
        }
        this.factory = factory;
        this.epochs = epochs;
        this.measureEpochs = measureEpochs;
        this.measureInference = measureInference;
        this.baseline = baseline;
        this.progress = progress;
    }

    /**
     * After timing, also profile one training epoch and one inference pass of each combination:
     * traces {@code profile-<n>-train.json} / {@code -infer.json} and a summary {@code profile.md} in {@code dir}.
     */
    public BenchRunner profileTo(Path dir) {
        this.profileDir = dir;
        return this;
    }

    /**
     * The device the workloads compute on, as {@code Workload.Factory.device()} names it ("cpu()",
     * "gpu(0)"): recorded per result, and on a GPU its peak memory is sampled.
     */
    public BenchRunner onDevice(String name) {
        String digits = name.replaceAll("\\D", "");
        this.device = name.startsWith("gpu") ? Device.gpu(digits.isEmpty() ? 0 : Integer.parseInt(digits)) : Device.cpu();
        return this;
    }

    /**
     * The engines whose inference is timed, in order; the first one's figure is the results'
     * inference column, every one's is in {@link #engineRows()}.
     */
    public BenchRunner engines(List<String> names) {
        for (String e : names) {
            if (!Workload.ENGINES.contains(e)) {
                throw new LoraException("--engine " + e + ": expected one of " + String.join(", ", Workload.ENGINES));
            }
        }
        if (names.isEmpty()) {
            throw new LoraException("--engine: give libtorch, onnxruntime or both (comma-separated)");
        }
        this.engines = List.copyOf(names);
        return this;
    }

    /**
     * CSV rows (combination index, arch, batch, size, targets, engine, images/s, % of peak,
     * merge seconds) of every timed engine, for inference-engines.csv.
     */
    public List<String> engineRows() {
        return engineRows;
    }

    /** The machine's measured matmul peak ({@link PeakProbe}): results then carry % of peak. */
    public BenchRunner withPeak(double gflops) {
        this.peakGflops = gflops;
        return this;
    }

    /** Runs every combination; measures the machine's peak first unless {@link #withPeak} gave it. */
    public List<BenchResult> run(List<BenchSettings> combos) {
        if (Double.isNaN(peakGflops)) {
            peakGflops = PeakProbe.gflops(device, PeakProbe.SIZE, PeakProbe.REPS);
            if (progress != null) {
                progress.printf(Locale.ROOT, "peak: %.1f GFLOP/s (best of %d fp32 %dx%d matmuls on %s)%n", peakGflops,
                        PeakProbe.REPS, PeakProbe.SIZE, PeakProbe.SIZE, device);
            }
        }
        List<BenchResult> out = new ArrayList<>();
        for (int i = 0; i < combos.size(); i++) {
            BenchSettings s = combos.get(i);
            long t0 = System.nanoTime();
            BenchResult r = runOne(s, i + 1);
            out.add(r);
            if (progress != null) {
                progress.println(progressLine(i + 1, combos.size(), r, (System.nanoTime() - t0) / 1e9));
                progress.flush();
            }
        }
        return out;
    }

    BenchResult runOne(BenchSettings s) {
        return runOne(s, 0);
    }

    private BenchResult runOne(BenchSettings s, int index) {
        settle();
        double rssStart = ProcessMemory.currentMb();
        boolean reset = ProcessMemory.resetPeak();
        double peakBefore = ProcessMemory.peakMb();
        List<Double> times = new ArrayList<>();
        long trainable;
        double inferPerS = 0;
        double peakGpu;
        int warmups;
        double trainGflop;
        double inferGflop;
        try (GpuMemory gpu = GpuMemory.watch(device); Workload w = factory.open(s)) {
            trainable = w.trainableParams();
            trainGflop = w.trainGflopPerImage();
            inferGflop = w.inferGflopPerImage();
            warmups = warmUp(w);
            times.addAll(w.trainEpochs(measureEpochs));
            if (measureInference) {
                // the deployed model: adapters merged once, outside the timing (docs/benchmark.md)
                double mergeS = w.beginInference();
                try {
                    for (String engine : engines) {
                        w.inferAll(engine); // warm-up (caches; onnxruntime: the export and session)
                        long t = System.nanoTime();
                        int n = w.inferAll(engine);
                        double sec = (System.nanoTime() - t) / 1e9;
                        double perS = n > 0 && sec > 0 ? n / sec : 0;
                        if (engine.equals(engines.get(0))) {
                            inferPerS = perS;
                        }
                        double pct = 100 * inferGflop * perS / peakGflops;
                        engineRows.add(String.format(Locale.ROOT, "%d,%s,%d,%s,%s,%s,%.3f,%.1f,%.4f", index, s.arch(),
                                s.batch(), s.size(), s.targetsLabel().replace(',', ' '), engine, perS, pct, mergeS));
                        if (progress != null && !engines.equals(List.of("libtorch"))) {
                            progress.printf(Locale.ROOT, "  inference %s: %.2f images/s (%.1f%% of peak; merge %.3f s, "
                                    + "untimed)%n", engine, perS, pct, mergeS);
                        }
                    }
                } finally {
                    w.endInference();
                }
            }
            if (profileDir != null) {
                profile(w, s, index);
            }
            peakGpu = gpu.peakMb();
        }
        double peak = ProcessMemory.peakMb();
        settle();
        double rssEnd = ProcessMemory.currentMb();
        double epochS = median(times);
        // without a peak reset VmHWM counts from start-up: then only report it if it grew here
        double peakMb = reset ? peak : Math.max(peak, peakBefore);
        BenchResult r = new BenchResult(s, epochs, measureEpochs, epochS, times, s.images() / epochS, inferPerS,
                trainable, rssStart, rssEnd, peakMb, null, device.toString(), peakGpu,
                new BenchResult.Efficiency(warmups, trainGflop, inferGflop, peakGflops));
        return baseline == null ? r : r.withPeer(baseline.match(s));
    }

    /** Untimed epochs until two consecutive ones agree within {@link #WARMUP_AGREEMENT}, or the cap; returns how many. */
    static int warmUp(Workload w) {
        double previous = Double.NaN;
        for (int n = 1; ; n++) {
            double t = w.trainEpochs(1).get(0);
            if (n >= MAX_WARMUP || (n >= 2 && Math.abs(t - previous) <= WARMUP_AGREEMENT * previous)) {
                return n;
            }
            previous = t;
        }
    }

    private void profile(Workload w, BenchSettings s, int index) {
        try {
            Files.createDirectories(profileDir);
        } catch (IOException e) {
            throw LoraException.file(profileDir, "cannot create: " + e.getMessage(), e);
        }
        String label = String.format(Locale.ROOT, "%s batch %d %s %d images %s", s.arch(), s.batch(), s.size(), s.images(), s.targetsLabel());
        Path train = profileDir.resolve("profile-" + index + "-train.json");
        TorchProfiler.profile(() -> w.trainEpochs(1), train);
        profileMd.append(ProfileSummary.read(train).markdown("[" + index + "] training epoch: " + label, 20));
        if (measureInference) {
            Path infer = profileDir.resolve("profile-" + index + "-infer.json");
            w.beginInference();
            try {
                TorchProfiler.profile(w::inferAll, infer);
            } finally {
                w.endInference();
            }
            profileMd.append(ProfileSummary.read(infer).markdown("[" + index + "] inference: " + label, 12));
        }
        AtomicFiles.writeString(profileDir.resolve("profile.md"), "# Profile (PyTorch profiler, self time per op)\n\n" + profileMd);
    }

    /** GC twice so that Java-side handles of closed tensors are gone before RSS is read. */
    private static void settle() {
        System.gc();
        System.gc();
    }

    static double median(List<Double> v) {
        List<Double> s = new ArrayList<>(v);
        s.sort(null);
        int n = s.size();
        return n == 0 ? Double.NaN : n % 2 == 1 ? s.get(n / 2) : (s.get(n / 2 - 1) + s.get(n / 2)) / 2;
    }

    static String progressLine(int i, int n, BenchResult r, double wallS) {
        BenchSettings s = r.settings();
        String peer = r.peer() == null ? "" : String.format(Locale.ROOT, ", %.2fx peer", r.trainSpeedup());
        return String.format(Locale.ROOT,
                "[%d/%d] %s batch %d %s %d images %s: %.2f s/epoch [%.2f..%.2f] (%s for %d epochs%s), %.2f train img/s, %s infer img/s, peak RSS %.0f MiB, RSS %.0f -> %.0f MiB%s (%.0f s)",
                i, n, s.arch(), s.batch(), s.size(), s.images(), s.targetsLabel(), r.epochSeconds(),
                r.epochSecondsMin(), r.epochSecondsMax(),
                ResultWriters.duration(r.projectedSeconds()), r.epochs(), r.projected() ? ", projected" : "",
                r.trainImagesPerS(), r.inferImagesPerS() > 0 ? String.format(Locale.ROOT, "%.2f", r.inferImagesPerS()) : "-",
                r.peakRssMb(), r.rssStartMb(), r.rssEndMb(), peer, wallS)
                + (Double.isFinite(r.trainPercentOfPeak()) ? String.format(Locale.ROOT,
                        ", train %.0f GFLOP/s (%.0f%% of peak)%s", r.trainGflops(), r.trainPercentOfPeak(),
                        Double.isFinite(r.inferPercentOfPeak()) ? String.format(Locale.ROOT, ", infer %.0f GFLOP/s (%.0f%%)",
                                r.inferGflops(), r.inferPercentOfPeak()) : "") : "")
                + (r.onGpu() ? String.format(Locale.ROOT, ", %s peak memory %.0f MiB", r.device(), r.peakGpuMb()) : "");
    }
}
