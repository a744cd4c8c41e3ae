package com.loratool.model;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.pytorch.jni.JniUtils;
import com.loratool.LoraException;
import java.util.Locale;

/** Picks the compute device and sets PyTorch's CPU thread count. */
public final class Compute {
    private Compute() {}

    /** "auto" (GPU when DJL sees one), "cpu" or "gpu" (fails when there is none). */
    public static Device device(String choice) {
        Engine engine = Engine.getEngine("PyTorch");
        switch (choice.toLowerCase(Locale.ROOT)) {
            case "cpu":
                return Device.cpu();
            case "gpu":
                if (engine.getGpuCount() == 0) {
                    throw new LoraException("--device gpu: no CUDA GPU visible to PyTorch (see requirements-native.md)");
                }
                return Device.gpu();
            case "auto":
                return engine.getGpuCount() > 0 ? Device.gpu() : Device.cpu();
            default:
                throw new LoraException("--device " + choice + ": expected auto, cpu or gpu");
        }
    }

    /** Intra-op threads for PyTorch; 0 or less keeps PyTorch's default (all cores). */
    public static void setThreads(int threads) {
        Engine.getEngine("PyTorch"); // loads the native library
        if (threads > 0) {
            JniUtils.setNumThreads(threads);
        }
    }
}
