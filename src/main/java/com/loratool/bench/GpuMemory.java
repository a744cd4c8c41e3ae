package com.loratool.bench;

import ai.djl.Device;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.util.cuda.CudaUtils;

/**
 * Peak GPU memory of one combination. DJL 0.35 exposes no libtorch allocator statistics
 * (no {@code torch.cuda.max_memory_allocated}), so this samples the device's used memory
 * ({@code cudaMemGetInfo} via {@link CudaUtils#getGpuMemory}: total minus free, i.e. the CUDA context
 * plus what libtorch's caching allocator reserved, plus any other process on that GPU) every 20 ms
 * on a daemon thread, after emptying libtorch's cache so each combination starts from its own floor.
 * Inert (NaN) on the CPU.
 */
final class GpuMemory implements AutoCloseable {
    private final Device device;
    private final Thread sampler;
    private volatile boolean running = true;
    private volatile long peakBytes;

    private GpuMemory(Device device) {
        this.device = device;
        if (device == null) {
            sampler = null;
            return;
        }
        JniUtils.emptyCudaCache();
        peakBytes = used();
        sampler = new Thread(() -> {
            while (running) {
                peakBytes = Math.max(peakBytes, used());
                try {
                    Thread.sleep(20);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }, "gpu-memory");
        sampler.setDaemon(true);
        sampler.start();
    }

    /** Starts sampling {@code device} when it is a GPU; on the CPU the result is NaN. */
    static GpuMemory watch(Device device) {
        return new GpuMemory(device != null && device.isGpu() ? device : null);
    }

    private long used() {
        return CudaUtils.getGpuMemory(device).getCommitted();
    }

    /** Peak used memory of the GPU while watched, MiB; NaN on the CPU. */
    double peakMb() {
        if (device == null) {
            return Double.NaN;
        }
        peakBytes = Math.max(peakBytes, used());
        return peakBytes / (1024.0 * 1024.0);
    }

    @Override
    public void close() {
        running = false;
        if (sampler != null) {
            sampler.interrupt();
        }
    }
}
