package com.loratool.io;

import com.loratool.LoraException;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import sun.misc.Signal;

/**
 * SIGINT and SIGTERM (docs/reliability.md). {@link #install()} (the CLI's {@code main}) replaces the
 * JVM's default, which runs shutdown hooks while other threads still use native memory, by one of
 * two behaviours:
 *
 * <ul>
 *   <li>while a {@linkplain #cooperate() cooperative} piece of work runs (training), the signal only
 *       sets a flag; the working thread itself stops at its next {@link #checkpoint safe point} by
 *       throwing {@link Interrupted}, so its NDManagers are closed by the thread that uses them, in
 *       its own {@code finally} blocks; locks and temporary files go the same way. A second signal
 *       stops at once (the cleanups run, nothing native is freed: {@link Runtime#halt}).</li>
 *   <li>otherwise the registered {@linkplain #onInterrupt cleanups} run (temporary files deleted,
 *       locks released), one line is printed, and the process halts with 130 (INT) or 143 (TERM).</li>
 * </ul>
 */
public final class Interrupts {
    private static final List<Runnable> CLEANUPS = new CopyOnWriteArrayList<>();
    private static final AtomicInteger COOPERATIVE = new AtomicInteger();
    private static volatile String signal;
    private static volatile PrintStream err = System.err;
    private static volatile Halt halt = code -> Runtime.getRuntime().halt(code);

    /** How the process ends; replaced in tests. */
    @FunctionalInterface
    interface Halt {
        void halt(int code);
    }

    /** Thrown at a safe point after a signal: the command unwinds normally and exits with {@link #exitCode()}. */
    public static final class Interrupted extends LoraException {
        private final String signalName;
        private final String where;

        public Interrupted(String signalName, String message) {
            this(signalName, null, message);
        }

        private Interrupted(String signalName, String where, String message) {
            super(message);
            this.signalName = signalName;
            this.where = where;
        }

        /** The interrupt at the safe point {@code where}: "interrupted (SIG<name>) " + {@code where}. */
        static Interrupted at(String signalName, String where) {
            return new Interrupted(signalName, where, heading(signalName) + where);
        }

        /** How every interrupt's message begins: {@code "interrupted (SIGTERM) "}. */
        public static String heading(String signalName) {
            return "interrupted (SIG" + signalName + ") ";
        }

        public String signalName() {
            return signalName;
        }

        /** The safe point it stopped at, as {@link #checkpoint} was told ("after epoch 1 of 3"); null when none. */
        public String where() {
            return where;
        }

        public int exitCode() {
            return Interrupts.exitCode(signalName);
        }

        /** The same interruption with more to say (the command adds how to continue). */
        public Interrupted withMessage(String message) {
            return new Interrupted(signalName, where, message);
        }
    }

    /** A registration or scope that ends with {@code close()}. */
    public interface Scope extends AutoCloseable {
        @Override
        void close();
    }

    private Interrupts() {}

    /** Handles SIGINT and SIGTERM as described above; called once by the CLI. */
    public static void install() {
        for (String s : List.of("INT", "TERM")) {
            try {
                Signal.handle(new Signal(s), sig -> handle(s));
            } catch (IllegalArgumentException e) {
                // signal not available here (or already used by the JVM with -Xrs): JVM default stays
            }
        }
    }

    public static int exitCode(String signalName) {
        return "INT".equals(signalName) ? 130 : 143;
    }

    /** True once a signal arrived. */
    public static boolean requested() {
        return signal != null;
    }

    /** A safe point: throws {@link Interrupted} ("interrupted " + what) when a signal arrived. */
    public static void checkpoint(Supplier<String> what) {
        String s = signal;
        if (s != null) {
            throw Interrupted.at(s, what.get());
        }
    }

    /** Marks work that reaches {@link #checkpoint safe points} often; signals then wait for one. */
    public static Scope cooperate() {
        COOPERATIVE.incrementAndGet();
        return COOPERATIVE::decrementAndGet;
    }

    /** Runs {@code cleanup} (delete a temp file, release a lock) if the process is stopped by a signal. */
    public static Scope onInterrupt(Runnable cleanup) {
        CLEANUPS.add(cleanup);
        return () -> CLEANUPS.remove(cleanup);
    }

    static void handle(String s) {
        boolean second = signal != null;
        signal = s;
        if (COOPERATIVE.get() > 0 && !second) {
            err.println("lora: SIG" + s + " received: stopping at the next safe point (send it again to stop at once)");
            return;
        }
        runCleanups();
        err.println("interrupted (SIG" + s + "); temporary files removed, locks released");
        err.flush();
        halt.halt(exitCode(s));
    }

    static void runCleanups() {
        for (Runnable r : new ArrayList<>(CLEANUPS)) {
            try {
                r.run();
            } catch (RuntimeException ignored) {
                // best effort: the process is stopping
            }
        }
        CLEANUPS.clear();
    }

    /** For tests: forget a signal, use {@code h} to end the process and {@code out} for its line. */
    static void resetForTest(Halt h, PrintStream out) {
        signal = null;
        halt = h;
        err = out;
        CLEANUPS.clear();
        COOPERATIVE.set(0);
    }
}
