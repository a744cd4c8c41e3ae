package com.loratool.bench;

import com.loratool.train.ProcessMemory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/** A one-line description of this machine (CPU model, cores, memory) and its load, from /proc. */
public final class MachineInfo {
    private MachineInfo() { }

    public static String describe() {
        String cpu = System.getProperty("os.arch");
        try {
            for (String l : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (l.startsWith("model name")) {
                    cpu = l.substring(l.indexOf(':') + 1).trim();
                    break;
                }
            }
        } catch (IOException | SecurityException e) {
            // keep os.arch
        }
        double memGb = Double.NaN;
        try {
            for (String l : Files.readAllLines(Path.of("/proc/meminfo"))) {
                if (l.startsWith("MemTotal:")) {
                    memGb = ProcessMemory.parseKb(l.substring(9)) / 1024.0 / 1024.0;
                }
            }
        } catch (IOException | SecurityException e) {
            // unknown
        }
        return String.format(Locale.ROOT, "%s, %d cores%s", cpu, Runtime.getRuntime().availableProcessors(),
                Double.isNaN(memGb) ? "" : String.format(Locale.ROOT, ", %.0f GiB", memGb));
    }

    /** 1-minute load average (NaN where unknown); above the core count means the CPU is shared. */
    public static double loadAverage() {
        try {
            return Double.parseDouble(Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+")[0]);
        } catch (IOException | RuntimeException e) {
            return Double.NaN;
        }
    }
}
