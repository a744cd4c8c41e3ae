package com.loratool.model.kernels;

import ai.djl.engine.Engine;
import ai.djl.engine.EngineProvider;
import ai.djl.pytorch.engine.PtEngineProvider;

/**
 * DJL's "PyTorch" engine with the kernel certificate at its first use: the toolkit's jar lists this
 * provider in {@code META-INF/services/ai.djl.engine.EngineProvider}, ahead of DJL's own (DJL keeps
 * the first provider of a name), so every path to the engine (commands, the Java API, tests) loads
 * libtorch, quiets its log below errors unless {@code --verbose}, and has its kernels certified
 * ({@link KernelCertificate#ensure()}) before any model runs. {@code model.Compute} calls the
 * certificate too, for a class path where DJL's provider comes first.
 */
public final class CertifiedEngineProvider implements EngineProvider {
    private final PtEngineProvider delegate = new PtEngineProvider();
    private volatile Boolean logVerbose; // the libtorch log level applied, null before the first load

    @Override
    public String getEngineName() {
        return delegate.getEngineName();
    }

    @Override
    public int getEngineRank() {
        return delegate.getEngineRank();
    }

    @Override
    public Engine getEngine() {
        Engine engine = delegate.getEngine();
        boolean verbose = LibtorchSwitches.verboseNativeLog();
        if (logVerbose == null || logVerbose != verbose) { // a volatile read per lookup; JNA only when it changes
            logVerbose = verbose;
            LibtorchSwitches.loaded().nativeLog(verbose);
        }
        KernelCertificate.ensure();
        return engine;
    }
}
