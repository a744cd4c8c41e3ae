package com.loratool.model;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Turns {@link NativeRuntime} facts into problems, each one line with its fix. Pure: the facts
 * come in, so every rule can be tested without the machine it describes.
 */
public final class NativeDiagnosis {
    private NativeDiagnosis() { }

    /** The CUDA route built with {@code -Pcuda}: bundled flavour and the driver it needs. */
    public static final String CUDA_PROFILE_FLAVOR = "cu124";
    public static final int CUDA_PROFILE_MIN_DRIVER = 550;
    /** The JNI flavour pytorch-jni 2.7.1-0.35.1 bundles for a local CUDA libtorch ({@code -Pnatives-local}). */
    public static final String LOCAL_CUDA_FLAVOR = "cu128";

    /** How to get CUDA natives; the fix of every "no CUDA" problem. */
    public static final String CUDA_FIX = "build the CUDA route: LORA_PROFILE=cuda ./lora doctor (Maven profile -Pcuda: "
            + "pytorch-native-cu124 2.5.1 from Maven Central, NVIDIA driver >= " + CUDA_PROFILE_MIN_DRIVER + "), or "
            + "LORA_PROFILE=natives-local PYTORCH_LIBRARY_PATH=<torch/lib of PyTorch 2.7.1 CUDA> ./lora doctor "
            + "(requirements-native.md)";

    /** One problem and what to do about it. */
    public record Problem(String what, String fix) {
        @Override
        public String toString() {
            return what + ": " + fix;
        }
    }

    /**
     * Problems for a run that wants {@code device} (auto, cpu, gpu). With "cpu" only problems that
     * stop the CPU are reported; with "auto" a GPU in the machine that libtorch cannot use is one.
     */
    public static List<Problem> problems(NativeRuntime f, String device) {
        String want = device.toLowerCase(Locale.ROOT);
        boolean wantGpu = want.equals("gpu") || (want.equals("auto") && f.gpuPresent());
        List<Problem> out = new ArrayList<>();
        if (!f.loaded()) {
            out.add(new Problem("PyTorch engine did not load (" + f.loadError() + ")", loadFix(f)));
            return out;
        }
        if (!f.engineTorch().equals("?") && f.libtorchVersion() != null
                && !f.libtorchVersion().startsWith(f.engineTorch())) {
            out.add(new Problem("libtorch " + f.libtorchVersion() + " loaded, DJL " + f.djlVersion() + " expects "
                    + f.engineTorch(), "use a libtorch " + f.engineTorch() + " (PYTORCH_LIBRARY_PATH/PYTORCH_VERSION) "
                    + "or the bundled natives of the default or -Pcuda build"));
        }
        if (f.localTorchVersion() != null && !f.localTorchVersion().startsWith(f.engineTorch())) {
            out.add(new Problem("PYTORCH_LIBRARY_PATH is PyTorch " + f.localTorchVersion() + ", DJL " + f.djlVersion()
                    + " needs libtorch " + f.engineTorch(), "pip install torch==" + f.engineTorch()
                    + " in a separate environment and point PYTORCH_LIBRARY_PATH at its torch/lib, or use LORA_PROFILE=cuda"));
        }
        if (!wantGpu) {
            return out;
        }
        if (!f.cudaBuilt()) {
            String what = f.libraryPathEnv() != null && f.bundledFlavor() == null
                    ? "libtorch in " + f.nativesDir() + " has no CUDA (flavour " + f.flavor() + ")"
                    : (f.bundledFlavor() != null && f.bundledFlavor().startsWith("cpu")
                            ? "CPU natives bundled (pytorch-native-" + f.bundledFlavor() + " " + f.bundledVersion() + ")"
                            : "libtorch " + f.flavor() + " has no CUDA");
            if (want.equals("auto")) {
                what += "; --device auto computes on the CPU although a GPU is present";
            }
            out.add(new Problem(what, CUDA_FIX));
            return out;
        }
        if (f.gpus().isEmpty()) {
            out.add(new Problem(f.cudaRuntime() == null && f.smiGpus().isEmpty()
                            ? "libtorch has CUDA but no GPU is visible (no libcudart found by JNA, nvidia-smi shows none)"
                            : "libtorch has CUDA but the CUDA runtime reports no GPU",
                    "check nvidia-smi and CUDA_VISIBLE_DEVICES; put the CUDA 12 runtime's lib folder (libcudart.so.12, "
                            + "e.g. <python site-packages>/nvidia/cuda_runtime/lib or /usr/local/cuda/lib64) on LD_LIBRARY_PATH"));
        }
        Integer driver = driverMajor(f.driver());
        int minDriver = f.flavor() != null && f.flavor().startsWith("cu128") ? 570
                : f.flavor() != null && f.flavor().startsWith("cu12") ? CUDA_PROFILE_MIN_DRIVER : 0;
        if (driver != null && driver < minDriver) {
            out.add(new Problem("NVIDIA driver " + f.driver() + " is older than " + minDriver + ", which libtorch "
                    + f.flavor() + " needs", "update the NVIDIA driver to " + minDriver + " or newer"));
        }
        return out;
    }

    private static String loadFix(NativeRuntime f) {
        String err = f.loadError() == null ? "" : f.loadError();
        if (f.libraryPathEnv() != null && f.flavorEnv() == null) {
            return "set PYTORCH_FLAVOR (" + LOCAL_CUDA_FLAVOR + " for a CUDA libtorch, cpu for a CPU one) and "
                    + "PYTORCH_VERSION=" + f.engineTorch() + " with PYTORCH_LIBRARY_PATH";
        }
        if (f.bundledFlavor() != null && f.bundledFlavor().startsWith("cu")) {
            return "the bundled " + f.bundledFlavor() + " natives need a CUDA 12 runtime that JNA finds: put the folder "
                    + "with libcudart.so.12 on LD_LIBRARY_PATH (e.g. /usr/local/cuda-12.x/lib64 or <site-packages>/nvidia/"
                    + "cuda_runtime/lib); otherwise DJL looks for another libtorch to download";
        }
        if (err.contains("download") || err.contains("offline") || err.contains("UnknownHost")) {
            return "no native jar fits this machine and downloads are off: build the default (CPU) or -Pcuda route, "
                    + "or set PYTORCH_LIBRARY_PATH, or LORA_ALLOW_DOWNLOADS=1 (requirements-native.md)";
        }
        return "run with --verbose for the stack trace; requirements-native.md lists what the natives need";
    }

    /** "570.124.06" → 570; null for null or unparsable. */
    static Integer driverMajor(String driver) {
        if (driver == null) {
            return null;
        }
        try {
            return Integer.parseInt(driver.trim().split("\\.")[0]);
        } catch (NumberFormatException e) {
            return null;
        }
    }
}
