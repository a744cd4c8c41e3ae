package com.loratool.io;

import com.loratool.LoraException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * How a batch command treats one bad input (docs/reliability.md): the failure is recorded and the
 * batch goes on, so every good input still gets its output; at the end every failure is listed
 * (file and reason) and the command exits {@link #EXIT_SOME_FAILED}. With fail-fast the first
 * failure is thrown as before.
 */
public final class BatchFailures {
    /** Exit code of a batch in which some inputs failed and the others were written. */
    public static final int EXIT_SOME_FAILED = 1;

    public record Failure(Path file, String reason) {}

    private final boolean failFast;
    private final List<Failure> failures = new ArrayList<>();

    public BatchFailures(boolean failFast) {
        this.failFast = failFast;
    }

    /** Runs {@code work} for {@code file}; a {@link LoraException} or other runtime error is recorded (or thrown). */
    public boolean attempt(Path file, Runnable work) {
        try {
            work.run();
            return true;
        } catch (RuntimeException e) {
            fail(file, e);
            return false;
        }
    }

    /** Records {@code e} against {@code file}, or rethrows it under fail-fast. */
    public void fail(Path file, RuntimeException e) {
        if (failFast) {
            throw e;
        }
        String reason = e instanceof LoraException ? e.getMessage()
                : e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage());
        failures.add(new Failure(file, Printable.of(reason == null ? "" : reason.replace('\n', ' '))));
    }

    public List<Failure> failures() {
        return List.copyOf(failures);
    }

    /** Prints the failures (if any) to {@code err} and returns the exit code: 0, or {@link #EXIT_SOME_FAILED}. */
    public int finish(String what, int total, PrintWriter err) {
        if (failures.isEmpty()) {
            return 0;
        }
        err.println("error: " + what + ": " + failures.size() + " of " + total + " input(s) failed (the others were"
                + " written):");
        for (Failure f : failures) {
            err.println("  " + (f.reason().contains(f.file().toString()) ? f.reason() : f.file() + ": " + f.reason()));
        }
        err.flush();
        return EXIT_SOME_FAILED;
    }
}
