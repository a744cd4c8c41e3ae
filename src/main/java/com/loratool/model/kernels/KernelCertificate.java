package com.loratool.model.kernels;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import ai.djl.pytorch.jni.JniUtils;
import com.loratool.LoraException;
import com.loratool.io.AtomicFiles;
import com.loratool.io.CacheDir;
import com.loratool.io.Json;
import com.loratool.model.kernels.LibtorchSwitches.Backend;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The verdict on this machine's native kernels: every {@link KernelChecks} check, at the process's
 * thread count and at one thread, with libtorch's default backends; where one is wrong, the failing
 * backend is switched off through libtorch's own switch ({@link LibtorchSwitches}: oneDNN first,
 * then NNPACK) and everything is checked again. A machine that stays wrong is refused: no command
 * trains or predicts on kernels known to be wrong.
 *
 * <p>{@link #ensure()} runs once per process, at the first use of the engine
 * ({@link CertifiedEngineProvider}, and {@code model.Compute}). The verdict and what was switched are
 * kept in the toolkit's cache ({@code kernels/<digest>.json}, keyed by {@link MachineFacts}), so a
 * machine pays for the checks once; a cached switch is applied again at every start.
 * The process's thread count is the one asked for before ({@link #threadsAsked}), else libtorch's default.
 * {@code LORA_KERNEL_CHECK=skip} (or {@code -Dlora.kernel.check=skip}) skips it, for experts;
 * {@code recheck} ignores the cached verdict.
 *
 * @param facts    the machine and libtorch the verdict is for
 * @param rounds   the rounds of checks: default backends, then one per backend switched off
 * @param switched backends switched off, in order ("oneDNN")
 * @param verdict  passed, switched (right after switching), refused, skipped
 * @param seconds  what the checks cost when they ran
 * @param source   "checked" in this process, "cached" (read from {@code file}), or "skipped"
 * @param file     the cache file, null when none could be written
 */
public record KernelCertificate(MachineFacts facts, List<Round> rounds, List<String> switched, Verdict verdict,
                                double seconds, String source, String file) {
    private static final Logger LOG = LoggerFactory.getLogger(KernelCertificate.class);

    /** The environment variable (and {@code -Dlora.kernel.check}) that skips or redoes the checks. */
    public static final String ENV = "LORA_KERNEL_CHECK";
    public static final String PROPERTY = "lora.kernel.check";
    /**
     * Test-only fault: {@code -Dlora.kernels.fault=OP} makes the checks of OP ("convolution") see a
     * wrong input gradient while oneDNN is on (as on the affected CPUs); {@code OP@always} whatever
     * is switched. Shows the switch and the refusal on a machine whose kernels are right.
     */
    public static final String FAULT_PROPERTY = "lora.kernels.fault";

    public KernelCertificate {
        rounds = List.copyOf(rounds);
        switched = List.copyOf(switched);
    }

    public enum Verdict { passed, switched, refused, skipped }

    /** One round: the backends in use and every check's outcome. */
    public record Round(String backends, List<Result> results) {
        public Round {
            results = List.copyOf(results);
        }

        public List<Result> failures() {
            return results.stream().filter(r -> !r.pass()).toList();
        }
    }

    /** One check at one thread count: its worst part and error, and the backend that computed it. */
    public record Result(String op, String shape, int threads, String part, double error, String backend, boolean pass) { }

    private static final Object LOCK = new Object();
    private static KernelCertificate current;
    private static boolean running;
    private static volatile boolean inspecting;
    /** The certificate once made: every later engine lookup (each training step's) reads it without the lock. */
    private static volatile KernelCertificate settled;

    /** The intra-op thread count asked for before the engine's first use ({@link #threadsAsked}); 0: libtorch's default. */
    private static volatile int threadsAsked;

    /**
     * The intra-op thread count the process will compute at ({@code --threads}, {@code train.threads}:
     * {@code model.Compute.setThreads} says so before it loads the engine), so that the checks run at
     * that count (and at one thread), not at libtorch's default; 0 or less: the default.
     */
    public static void threadsAsked(int threads) {
        threadsAsked = threads;
    }

    /**
     * For {@code lora doctor}: a refused machine still runs in this process, so that the doctor can
     * show the certificate and what the model computes on it.
     */
    public static void inspectOnly() {
        inspecting = true;
    }

    /**
     * The certificate of this process, made at the first call; throws a one-line
     * {@link LoraException} when the machine's kernels are refused.
     */
    public static KernelCertificate ensure() {
        KernelCertificate c = settled;
        if (c == null) {
            c = examine();
        }
        if (c != null && c.verdict() == Verdict.refused && !inspecting) {
            throw new LoraException(c.refusal());
        }
        return c;
    }

    /** The certificate of this process, made at the first call; never throws for a refusal (lora doctor). Null while it is being made. */
    public static KernelCertificate examine() {
        synchronized (LOCK) {
            if (current == null && !running) {
                running = true; // the checks use the engine themselves: the nested call returns null
                try {
                    current = certify(setting(), CacheDir.root().resolve("kernels"), System.getProperty(FAULT_PROPERTY));
                    current.announce();
                    settled = current;
                } finally {
                    running = false;
                }
            }
            return current;
        }
    }

    private static String setting() {
        String p = System.getProperty(PROPERTY);
        String v = p != null ? p : System.getenv(ENV);
        return v == null ? "" : v.trim().toLowerCase(Locale.ROOT);
    }

    /** The test-only fault of {@link #FAULT_PROPERTY}, or null. */
    static KernelChecks.Tamper tamper(String fault) {
        if (fault == null || fault.isBlank()) {
            return null;
        }
        boolean always = fault.endsWith("@always");
        String op = always ? fault.substring(0, fault.length() - "@always".length()) : fault;
        LibtorchSwitches sw = LibtorchSwitches.loaded();
        return (check, part, values) -> {
            if (check.op().equals(op) && part.equals("gradient of input") && (always || sw.enabled(Backend.ONEDNN))) {
                for (int i = 0; i < values.length; i += 2) {
                    values[i] *= 1.3f;
                }
            }
        };
    }

    /**
     * Makes the certificate: {@code setting} "skip" skips, "recheck" ignores a cached verdict;
     * {@code cache} is the folder of cached verdicts (not written when it cannot be); {@code fault}
     * the test-only fault of {@link #FAULT_PROPERTY}, or null.
     */
    static KernelCertificate certify(String setting, Path cache, String fault) {
        KernelChecks.Tamper tamper = tamper(fault);
        Engine engine = Engine.getEngine("PyTorch");
        int threads = JniUtils.getNumThreads();
        int asked = threadsAsked;
        if (asked > 0 && asked != threads) { // check what the command will compute at
            JniUtils.setNumThreads(asked);
            threads = asked;
        }
        List<Integer> counts = threads > 1 ? List.of(threads, 1) : List.of(Math.max(1, threads));
        MachineFacts facts = MachineFacts.of(counts);
        if (setting.equals("skip") || setting.equals("off") || setting.equals("0")) {
            return new KernelCertificate(facts, List.of(), List.of(), Verdict.skipped, 0, "skipped", null);
        }
        LibtorchSwitches sw = LibtorchSwitches.loaded();
        Path file = cache.resolve(facts.digest() + (tamper != null ? "-fault-" + fault.replaceAll("[^a-z@]", "_") : "") + ".json");
        if (!setting.equals("recheck")) {
            KernelCertificate cached = read(file);
            // a switch the cache names that is no backend: a damaged file, checked again like an unreadable one
            if (cached != null && cached.facts().equals(facts)
                    && cached.switched().stream().allMatch(b -> Backend.ofLabel(b) != null)) {
                for (String b : cached.switched()) {
                    sw.set(Backend.ofLabel(b), false);
                }
                return new KernelCertificate(facts, cached.rounds(), cached.switched(), cached.verdict(), cached.seconds(),
                        "cached", file.toString());
            }
        }
        long t0 = System.nanoTime();
        List<Round> rounds = new ArrayList<>();
        List<String> switched = new ArrayList<>();
        try (NDManager m = engine.newBaseManager()) {
            rounds.add(round(m, counts, sw, tamper));
            for (Backend b : Backend.values()) {
                if (rounds.get(rounds.size() - 1).failures().isEmpty()) {
                    break;
                }
                if (sw.available(b) && sw.enabled(b) && sw.set(b, false)) {
                    switched.add(b.label());
                    rounds.add(round(m, counts, sw, tamper));
                }
            }
        } finally {
            if (threads > 0) {
                JniUtils.setNumThreads(threads);
            }
        }
        boolean right = rounds.get(rounds.size() - 1).failures().isEmpty();
        Verdict v = !right ? Verdict.refused : switched.isEmpty() ? Verdict.passed : Verdict.switched;
        double seconds = (System.nanoTime() - t0) / 1e9;
        KernelCertificate c = new KernelCertificate(facts, rounds, switched, v, seconds, "checked", file.toString());
        if (!save(c, file)) {
            c = new KernelCertificate(facts, rounds, switched, v, seconds, "checked", null);
        }
        return c;
    }

    private static Round round(NDManager m, List<Integer> counts, LibtorchSwitches sw,
                               KernelChecks.Tamper tamper) {
        boolean onednn = sw.enabled(Backend.ONEDNN);
        List<Result> results = new ArrayList<>();
        long seed = 20261206;
        List<KernelChecks.Check> checks = KernelChecks.all(); // the same checks at every thread count
        for (int t : counts) {
            JniUtils.setNumThreads(t);
            for (KernelChecks.Check c : checks) {
                KernelChecks.Outcome o = KernelChecks.run(c, m, seed++, tamper);
                results.add(new Result(c.op(), c.shape(), t, o.part(), o.error(), backend(c.op(), onednn, sw), o.pass()));
            }
        }
        String backends = (onednn ? "oneDNN on" : "oneDNN off") + ", " + (sw.enabled(Backend.NNPACK) ? "NNPACK on" : "NNPACK off");
        return new Round(backends, results);
    }

    /** The library that computes {@code op} in float32 with the given switches. */
    static String backend(String op, boolean onednn, LibtorchSwitches sw) {
        return switch (op) {
            case "convolution" -> onednn ? "oneDNN" : sw.enabled(Backend.NNPACK) ? "NNPACK or ATen" : "ATen (im2col + BLAS)";
            case "linear", "transposed convolution", "interpolation" -> "BLAS (MKL)";
            case "attention" -> "ATen flash attention";
            default -> "ATen";
        };
    }

    private static KernelCertificate read(Path file) {
        if (!Files.isRegularFile(file)) {
            return null;
        }
        try {
            return Json.SNAKE.readValue(file.toFile(), KernelCertificate.class);
        } catch (Exception e) { // a damaged or older cache file: check again
            LOG.debug("{}: not a kernel certificate ({}); checking again", file, e.getMessage());
            return null;
        }
    }

    private static boolean save(KernelCertificate c, Path file) {
        try {
            AtomicFiles.writeBytes(file, Json.pretty(Json.SNAKE).writeValueAsBytes(c));
            return true;
        } catch (Exception e) { // a cache that cannot be written only costs the checks again next time
            LOG.debug("{}: kernel certificate not kept ({})", file, e.getMessage());
            return false;
        }
    }

    /** The worst failure of the first round (what was wrong before anything was switched), or null. */
    public Result worstFailure() {
        if (rounds.isEmpty()) {
            return null;
        }
        Result worst = null;
        for (Result r : rounds.get(0).failures()) {
            if (worst == null || Double.isNaN(r.error()) || r.error() > worst.error()) {
                worst = r;
                if (Double.isNaN(r.error())) {
                    break;
                }
            }
        }
        return worst;
    }

    /** "convolution (3x3 16->8 stride 1, input 2x16x9x11, 1 thread): gradient of input off by 0.31". */
    static String describe(Result r) {
        return String.format(Locale.ROOT, "%s (%s, %d thread%s): %s off by %s", r.op(), r.shape(), r.threads(),
                r.threads() == 1 ? "" : "s", r.part(), Double.isNaN(r.error()) ? "NaN" : String.format(Locale.ROOT, "%.3g", r.error()));
    }

    private int checks() {
        return rounds.isEmpty() ? 0 : rounds.get(rounds.size() - 1).results().size();
    }

    /** The one warning line of a machine where a backend was switched off. */
    public String warning() {
        Result w = worstFailure();
        int more = rounds.isEmpty() ? 0 : rounds.get(0).failures().size() - 1;
        return String.format(Locale.ROOT, "libtorch computes %s%s on this CPU with %s; switched %s off, and all %d kernel "
                        + "checks pass now (lora doctor shows the certificate)", w == null ? "some kernels wrong" : describe(w),
                more > 0 ? " (+" + more + " more)" : "", w == null ? "its defaults" : w.backend(),
                String.join(" and ", switched), checks());
    }

    /** The one-line refusal of a machine whose kernels stay wrong. */
    public String refusal() {
        Result last = rounds.isEmpty() || rounds.get(rounds.size() - 1).failures().isEmpty() ? null
                : rounds.get(rounds.size() - 1).failures().get(0);
        return String.format(Locale.ROOT, "libtorch computes %s on this CPU%s; refusing to train or predict on wrong "
                        + "kernels (lora doctor shows the certificate; %s=skip runs anyway, at your own risk)",
                last == null ? "some kernels wrong" : describe(last),
                switched.isEmpty() ? " and has no switch to route around it" : " even with " + String.join(" and ", switched)
                        + " switched off", ENV);
    }

    private void announce() {
        if (verdict == Verdict.switched) {
            LOG.warn(warning());
        } else if (verdict == Verdict.skipped) {
            LOG.info("native kernel checks skipped ({}=skip)", ENV);
        } else if (verdict == Verdict.passed && "checked".equals(source)) {
            LOG.debug("native kernels certified: {} checks in {} s", checks(), String.format(Locale.ROOT, "%.2f", seconds));
        }
    }
}
