package com.loratool.bench;

import java.util.List;

/**
 * A whole benchmark run: the results and the conditions they were measured under.
 *
 * @param results      one per combination, in grid order
 * @param machine      CPU model, cores and memory of this machine
 * @param device       where it computed (cpu, gpu(0))
 * @param threads      PyTorch CPU threads
 * @param synthetic    random tensors instead of data and weights
 * @param loadAverage  1-minute load average before the run (the CPU may be shared)
 * @param date         ISO-8601 UTC time of the run
 * @param rssStartMb   resident memory before the first combination (after start-up), MiB
 * @param rssEndMb     resident memory after the last combination, MiB
 */
public record BenchReport(List<BenchResult> results, String machine, String device, int threads, boolean synthetic,
                          double loadAverage, String date, double rssStartMb, double rssEndMb) {
    public BenchReport {
        results = List.copyOf(results);
    }

    /** Growth of resident memory over the whole run, MiB (what the combinations left behind). */
    public double rssGrowthMb() {
        return rssEndMb - rssStartMb;
    }
}
