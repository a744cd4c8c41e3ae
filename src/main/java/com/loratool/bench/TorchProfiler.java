package com.loratool.bench;

import ai.djl.engine.Engine;
import ai.djl.pytorch.jni.JniUtils;
import com.loratool.LoraException;
import java.nio.file.Path;

/** PyTorch's profiler through DJL: records every aten op of a piece of work into a Chrome trace. */
public final class TorchProfiler {
    private TorchProfiler() { }

    /** Runs {@code work} under the profiler and writes the trace to {@code trace} (JSON, chrome://tracing). */
    public static void profile(Runnable work, Path trace) {
        if (!"PyTorch".equals(Engine.getInstance().getEngineName())) {
            throw new LoraException("--profile: needs the PyTorch engine, got " + Engine.getInstance().getEngineName());
        }
        JniUtils.startProfile(false, false, false);
        try {
            work.run();
        } finally {
            JniUtils.stopProfile(trace.toAbsolutePath().toString());
        }
    }
}
