package com.loratool.train;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * This process's resident memory from {@code /proc/self/status}: {@code VmRSS} (now) and
 * {@code VmHWM} (peak). Native (libtorch) memory counts, which the JVM heap figures miss.
 * Linux only; elsewhere the figures are NaN. The trainer logs it each epoch (native leaks show
 * here), the benchmark per combination.
 */
public final class ProcessMemory {
    private static final Path STATUS = Path.of("/proc/self/status");
    private static final Path CLEAR_REFS = Path.of("/proc/self/clear_refs");

    private ProcessMemory() { }

    /** Resident memory now, MiB (NaN where /proc is missing). */
    public static double currentMb() {
        return field("VmRSS:");
    }

    /** Peak resident memory since start or the last {@link #resetPeak()}, MiB. */
    public static double peakMb() {
        return field("VmHWM:");
    }

    /**
     * Resets the peak to the current RSS (writes 5 to /proc/self/clear_refs, Linux 4.0+).
     * Returns false where the kernel refuses; the peak then keeps counting from start-up.
     */
    public static boolean resetPeak() {
        try {
            Files.writeString(CLEAR_REFS, "5");
            return true;
        } catch (IOException | SecurityException | UnsupportedOperationException e) {
            return false;
        }
    }

    private static double field(String name) {
        try {
            for (String line : Files.readAllLines(STATUS)) {
                if (line.startsWith(name)) {
                    return parseKb(line.substring(name.length())) / 1024.0;
                }
            }
        } catch (IOException | SecurityException e) {
            // not Linux
        }
        return Double.NaN;
    }

    /** "  123456 kB" -> 123456. */
    public static long parseKb(String value) {
        String v = value.trim();
        int sp = v.indexOf(' ');
        return Long.parseLong(sp < 0 ? v : v.substring(0, sp));
    }
}
