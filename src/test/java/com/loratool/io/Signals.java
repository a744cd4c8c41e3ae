package com.loratool.io;

import java.io.PrintStream;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Test helper for other packages: a SIGINT/SIGTERM as {@link Interrupts}' handler sees it, without a
 * real signal, and with the halt recorded instead of done (the JVM of the tests goes on).
 */
public final class Signals {
    private static final List<Integer> HALTS = new CopyOnWriteArrayList<>();

    private Signals() {}

    /** Forgets any signal and cleanup; from now on a halt is recorded in {@link #halts()}, Interrupts' lines go to {@code out}. */
    public static void reset(PrintStream out) {
        HALTS.clear();
        Interrupts.resetForTest(HALTS::add, out);
    }

    /** As if the process received SIG{@code name} ("TERM", "INT"). */
    public static void send(String name) {
        Interrupts.handle(name);
    }

    /** The exit codes the handler would have halted the process with since the last {@link #reset}. */
    public static List<Integer> halts() {
        return List.copyOf(HALTS);
    }
}
