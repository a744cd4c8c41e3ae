package com.loratool.io;

import com.loratool.LoraException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * Memory a request may use, checked before anything large is allocated: the smaller of the
 * kernel's {@code MemAvailable} (/proc/meminfo) and the cgroup's limit minus its usage (a container
 * sees the host's meminfo). The big buffers (libtorch tensors, OpenCV images) live outside the JVM
 * heap, so the heap's own headroom is not what counts.
 *
 * <p>A request above the budget is refused in one line with the estimate and the limit; the
 * caller's override flag (named in the message) skips the check.
 */
public final class MemoryBudget {
    private static final Path MEMINFO = Path.of("/proc/meminfo");
    private static final List<Path[]> CGROUPS = List.of(
            new Path[] {Path.of("/sys/fs/cgroup/memory.max"), Path.of("/sys/fs/cgroup/memory.current")},
            new Path[] {Path.of("/sys/fs/cgroup/memory/memory.limit_in_bytes"),
                Path.of("/sys/fs/cgroup/memory/memory.usage_in_bytes")});

    private MemoryBudget() {}

    /** Bytes this process may still allocate; Long.MAX_VALUE where the system does not say. */
    public static long availableBytes() {
        long avail = memAvailable();
        for (Path[] cg : CGROUPS) {
            long limit = readLong(cg[0]);
            long used = readLong(cg[1]);
            if (limit > 0 && used >= 0 && limit < (1L << 60)) {
                avail = Math.min(avail, Math.max(0, limit - used));
                break;
            }
        }
        return avail;
    }

    /**
     * Refuses {@code what} when {@code estimateBytes} exceeds {@code limitBytes}: "predict at
     * 20006x20006: needs about 3.1 TB of memory (estimate), 21.0 GB available; ... (--no-memory-check
     * to try anyway)".
     */
    public static void require(String what, long estimateBytes, long limitBytes, String overrideFlag) {
        if (estimateBytes > limitBytes) {
            throw new LoraException(what + ": needs about " + human(estimateBytes) + " of memory (estimate), "
                    + human(limitBytes) + " available; use a smaller size or batch"
                    + (overrideFlag == null ? "" : " (" + overrideFlag + " to try anyway)"));
        }
    }

    /** {@link #require} against {@link #availableBytes()}. */
    public static void require(String what, long estimateBytes, String overrideFlag) {
        require(what, estimateBytes, availableBytes(), overrideFlag);
    }

    /**
     * Bytes the JVM's heap may still grow by: its maximum ({@code -Xmx}) less what is in use. A first
     * look that is short collects garbage and looks again, so that garbage is not counted as use.
     */
    public static long heapAvailableBytes(long wanted) {
        Runtime r = Runtime.getRuntime();
        long free = r.maxMemory() - (r.totalMemory() - r.freeMemory());
        if (free < wanted) {
            System.gc();
            free = r.maxMemory() - (r.totalMemory() - r.freeMemory());
        }
        return Math.max(0, free);
    }

    /**
     * For work whose large buffers are Java arrays (the ONNX export): refuses {@code what} when
     * {@code estimateBytes} exceeds {@code limitBytes} of free heap, naming the setting that gives
     * the JVM more.
     */
    public static void requireHeap(String what, long estimateBytes, long limitBytes, String overrideFlag) {
        if (estimateBytes > limitBytes) {
            throw new LoraException(what + ": needs about " + human(estimateBytes) + " of Java heap (estimate), "
                    + human(limitBytes) + " free; give the JVM more with LORA_JAVA_OPTS=\"-Xss4m -Xmx<size>\" or use a "
                    + "smaller size" + (overrideFlag == null ? "" : " (" + overrideFlag + " to try anyway)"));
        }
    }

    /** {@link #requireHeap} against {@link #heapAvailableBytes}. */
    public static void requireHeap(String what, long estimateBytes, String overrideFlag) {
        requireHeap(what, estimateBytes, heapAvailableBytes(estimateBytes), overrideFlag);
    }

    public static String human(long bytes) {
        double b = bytes;
        String[] units = {"B", "KB", "MB", "GB", "TB", "PB", "EB"};
        int u = 0;
        while (b >= 1000 && u < units.length - 1) {
            b /= 1000;
            u++;
        }
        return String.format(Locale.ROOT, u == 0 ? "%.0f %s" : "%.1f %s", b, units[u]);
    }

    private static long memAvailable() {
        try {
            for (String line : Files.readAllLines(MEMINFO)) {
                if (line.startsWith("MemAvailable:")) {
                    String v = line.substring("MemAvailable:".length()).trim();
                    int sp = v.indexOf(' ');
                    return Long.parseLong(sp < 0 ? v : v.substring(0, sp)) * 1024;
                }
            }
        } catch (IOException | RuntimeException e) {
            // not Linux: no figure
        }
        return Long.MAX_VALUE;
    }

    private static long readLong(Path p) {
        try {
            String s = Files.readString(p).trim();
            return s.equals("max") ? Long.MAX_VALUE : Long.parseLong(s);
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }
}
