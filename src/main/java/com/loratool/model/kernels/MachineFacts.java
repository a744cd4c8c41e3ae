package com.loratool.model.kernels;

import ai.djl.pytorch.jni.LibUtils;
import com.sun.jna.Function;
import com.sun.jna.NativeLibrary;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What a kernel verdict depends on: the CPU (model, ISA flags), the caches its CPUID reports (as
 * the C library reads them: {@code sysconf(_SC_LEVEL*_CACHE_*)}, what {@code getconf -a} prints;
 * oneDNN and MKL size their blocks by them), the libtorch build, the thread count and the check's
 * version. Two machines with equal facts get the same verdict, so the verdict is cached under
 * their digest.
 *
 * @param cpu      CPU model name ({@code /proc/cpuinfo}), or {@code os.arch} where there is none
 * @param isa      the ISA flags the kernels dispatch on (avx512*, avx2, fma, amx ...), sorted
 * @param caches   the reported caches, e.g. {@code L1d 32768/8}, {@code L3 335544320/0} (size/ways)
 * @param libtorch libtorch version, flavour and the size of libtorch_cpu
 * @param threads  intra-op threads the kernels were checked with
 * @param check    {@link KernelChecks#VERSION}
 */
public record MachineFacts(String cpu, List<String> isa, List<String> caches, String libtorch, List<Integer> threads,
                           int check) {

    public MachineFacts {
        isa = List.copyOf(isa);
        caches = List.copyOf(caches);
        threads = List.copyOf(threads);
    }

    /** The facts of this machine and its loaded libtorch. */
    public static MachineFacts of(List<Integer> threads) {
        Map<String, String> info = cpuInfo();
        String cpu = info.getOrDefault("model name", System.getProperty("os.arch"));
        if (info.containsKey("cpu family")) {
            cpu += " (family " + info.get("cpu family") + ", model " + info.getOrDefault("model", "?") + ", stepping "
                    + info.getOrDefault("stepping", "?") + ")";
        }
        List<String> isa = new ArrayList<>();
        for (String f : info.getOrDefault("flags", info.getOrDefault("Features", "")).trim().split("\\s+")) {
            if (f.matches("(avx|sse|fma|amx|f16c|bmi|vnni|avx512).*") || f.equals("topoext") || f.equals("hypervisor")) {
                isa.add(f);
            }
        }
        isa.sort(null);
        return new MachineFacts(cpu, isa, readCaches(), readLibtorch(), threads, KernelChecks.VERSION);
    }

    /** Key-value pairs of the first processor in /proc/cpuinfo (empty where there is none). */
    static Map<String, String> cpuInfo() {
        Map<String, String> out = new LinkedHashMap<>();
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"), StandardCharsets.UTF_8)) {
                if (line.isBlank() && !out.isEmpty()) {
                    break;
                }
                int colon = line.indexOf(':');
                if (colon > 0) {
                    out.putIfAbsent(line.substring(0, colon).trim(), line.substring(colon + 1).trim());
                }
            }
        } catch (IOException | RuntimeException e) {
            // not Linux: the model name falls back to os.arch
        }
        return out;
    }

    /** glibc's sysconf names for the caches (_SC_LEVEL1_ICACHE_SIZE = 185 ...), as getconf uses them. */
    private static final String[] LEVELS = {"L1i", "L1d", "L2", "L3", "L4"};

    /** The caches as CPUID reports them through the C library: "L3 335544320/0" (bytes / ways). */
    static List<String> readCaches() {
        List<String> out = new ArrayList<>();
        try {
            Function sysconf = NativeLibrary.getInstance("c").getFunction("sysconf");
            for (int i = 0; i < LEVELS.length; i++) {
                long size = sysconf.invokeLong(new Object[] {185 + 3 * i});
                long ways = sysconf.invokeLong(new Object[] {186 + 3 * i});
                if (size > 0 || ways > 0) {
                    out.add(LEVELS[i] + " " + size + "/" + ways);
                }
            }
        } catch (UnsatisfiedLinkError | RuntimeException e) {
            out.add("unknown (" + e.getClass().getSimpleName() + ")");
        }
        return out;
    }

    static String readLibtorch() {
        try {
            String dir = LibUtils.getLibtorchPath();
            Path lib = Path.of(dir, System.mapLibraryName("torch_cpu"));
            long size = Files.isRegularFile(lib) ? Files.size(lib) : -1;
            return LibUtils.getVersion() + " " + Path.of(dir).getFileName() + " " + size;
        } catch (IOException | RuntimeException | LinkageError e) {
            return "unknown";
        }
    }

    /** The digest that names the cached verdict. */
    public String digest() {
        String text = String.join("\n", cpu, String.join(" ", isa), String.join(" ", caches), libtorch,
                threads.toString(), Integer.toString(check));
        try {
            byte[] d = MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(d, 0, 8);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** "L1d 32768/8, L3 335544320/0": the caches in one line. */
    public String cachesLine() {
        return String.join(", ", caches);
    }
}
