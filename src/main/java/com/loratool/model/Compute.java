package com.loratool.model;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.pytorch.jni.JniUtils;
import com.loratool.LoraException;
import com.loratool.model.kernels.KernelCertificate;
import java.io.File;
import java.util.List;
import java.util.Locale;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Picks the compute device and sets PyTorch's CPU thread count, on certified kernels ({@link KernelCertificate}). */
public final class Compute {
    private static final Logger LOG = LoggerFactory.getLogger(Compute.class);

    private Compute() {}

    /** The problems {@link NativeDiagnosis} finds for this device choice, joined; or a pointer to lora doctor. */
    private static String diagnosis(String choice) {
        List<NativeDiagnosis.Problem> problems = NativeDiagnosis.problems(NativeRuntime.detect(), choice);
        return problems.isEmpty() ? "run lora doctor (requirements-native.md)"
                : String.join("; ", problems.stream().map(NativeDiagnosis.Problem::toString).toList());
    }

    /** The NVIDIA kernel driver lists a GPU (cheap: no CUDA library needed). */
    static boolean nvidiaGpuInMachine() {
        String[] gpus = new File("/proc/driver/nvidia/gpus").list();
        return gpus != null && gpus.length > 0;
    }

    /** "auto" (GPU when DJL sees one), "cpu" or "gpu" (fails when there is none). */
    public static Device device(String choice) {
        Engine engine = Engine.getEngine("PyTorch");
        KernelCertificate.ensure(); // done already where the toolkit's engine provider loaded the engine
        switch (choice.toLowerCase(Locale.ROOT)) {
            case "cpu":
                return Device.cpu();
            case "gpu":
                if (engine.getGpuCount() == 0) {
                    throw new LoraException("--device gpu: no CUDA GPU visible to PyTorch: " + diagnosis("gpu"));
                }
                return Device.gpu();
            case "auto":
                if (engine.getGpuCount() > 0) {
                    return Device.gpu();
                }
                if (nvidiaGpuInMachine()) {
                    LOG.warn("--device auto: computing on the CPU although an NVIDIA GPU is present: {}", diagnosis("auto"));
                }
                return Device.cpu();
            default:
                throw new LoraException("--device " + choice + ": expected auto, cpu or gpu");
        }
    }

    /**
     * PyTorch's intra-op thread count on the calling thread. libtorch keeps it per thread (OpenMP's
     * setting is the calling thread's): a thread that did not set it runs with another count, so its
     * kernels sum in another order and its results differ in the last bits.
     */
    public static int threadsHere() {
        return JniUtils.getNumThreads();
    }

    /**
     * The calling thread's intra-op count set to {@code threads} (when positive and different): a
     * model built on one thread gives the same numbers on another ({@code lora serve}'s batching
     * thread runs what {@code lora predict} runs on its main thread).
     */
    public static void threadsHere(int threads) {
        if (threads > 0 && JniUtils.getNumThreads() != threads) {
            JniUtils.setNumThreads(threads);
        }
    }

    /** Intra-op threads for PyTorch; 0 or less keeps PyTorch's default (all cores). */
    public static void setThreads(int threads) {
        KernelCertificate.threadsAsked(threads); // a first load certifies the kernels at this count
        Engine.getEngine("PyTorch"); // loads the native library
        KernelCertificate.ensure();
        if (threads > 0) {
            JniUtils.setNumThreads(threads);
        }
    }
}
