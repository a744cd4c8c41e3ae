package com.loratool.train;

import java.util.Locale;

/** Listener: the process RSS and Java heap after every epoch, to train.log. */
final class MemoryLog implements TrainingListener {
    private final RunLog log;

    MemoryLog(RunLog log) {
        this.log = log;
    }

    @Override
    public void onEpochEnd(EpochEnd end) {
        Runtime rt = Runtime.getRuntime();
        log.fileOnly(String.format(Locale.ROOT, "epoch %d memory: rss %.1f MiB, java heap %.1f MiB", end.epoch(),
                ProcessMemory.currentMb(), (rt.totalMemory() - rt.freeMemory()) / 1048576.0));
    }
}
