package com.loratool.bench;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

/**
 * The machine's own fp32 peak as the benchmark's yardstick: a square matrix product (2n³ FLOP)
 * through the same libtorch and thread setting as the workloads, one untimed run, then the best
 * of {@code reps} timed ones (best, because the load of a shared machine only ever slows it down).
 */
public final class PeakProbe {
    /** 2048 x 2048: large enough for the library's blocked kernel, ~0.1 s per product on 2 cores. */
    public static final int SIZE = 2048;
    public static final int REPS = 5;

    private PeakProbe() {}

    /** Best GFLOP/s of an n x n fp32 matmul on {@code device}. */
    public static double gflops(Device device, int n, int reps) {
        try (NDManager m = NDManager.newBaseManager(device)) {
            NDArray a = m.randomUniform(-1, 1, new Shape(n, n));
            NDArray b = m.randomUniform(-1, 1, new Shape(n, n));
            a.matMul(b).close(); // warm-up: thread pool, packing buffers
            double best = Double.POSITIVE_INFINITY;
            for (int i = 0; i < reps; i++) {
                long t0 = System.nanoTime();
                try (NDArray c = a.matMul(b)) {
                    c.get(0, 0).getFloat(); // waits for the product (asynchronous devices)
                }
                best = Math.min(best, (System.nanoTime() - t0) / 1e9);
            }
            return 2.0 * n * n * (double) n / best / 1e9;
        }
    }
}
