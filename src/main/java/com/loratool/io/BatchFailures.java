package com.loratool.io;

import com.loratool.LoraException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * How a batch command treats one bad input (docs/reliability.md): the failure is recorded and the
 * batch goes on, so every good input still gets its output; at the end every failure is listed
 * (file and reason) and the command exits {@link #EXIT_SOME_FAILED}. With fail-fast the first
 * failure is thrown as before.
 *
 * <p>Two kinds of error are never an input's failure and always stop the batch: an interrupt
 * ({@link Interrupts.Interrupted}) and an error marked with {@link #stopsTheBatch} (the model
 * cannot be built: every input would fail the same way).
 */
public final class BatchFailures {
    /** Exit code of a batch in which some inputs failed and the others were written. */
    public static final int EXIT_SOME_FAILED = 1;

    public record Failure(Path file, String reason) {
        /** The reason, prefixed with the file unless the reason already names it. */
        public String line() {
            return reason.contains(file.toString()) ? reason : file + ": " + reason;
        }
    }

    private final boolean failFast;
    private final List<Failure> failures = new ArrayList<>();

    public BatchFailures(boolean failFast) {
        this.failFast = failFast;
    }

    /**
     * The failures of a batch of {@code inputs} inputs: fail-fast when asked, and for a single input (its
     * failure is the command's error, one line and exit 2, as for a command given one file).
     */
    public static BatchFailures of(boolean failFast, int inputs) {
        return new BatchFailures(failFast || inputs == 1);
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

    /** Records {@code e} against {@code file}, or rethrows it under fail-fast (and for errors that stop the batch). */
    public void fail(Path file, RuntimeException e) {
        String reason = reasonOf(e);
        if (failFast) {
            throw e;
        }
        failures.add(new Failure(file, Printable.of(reason)));
    }

    /**
     * The reason, on one line, that {@code e} is recorded as one input's failure (a {@link LoraException}'s
     * message, else the class and message; a batch's list cuts it with {@link Printable}). An error that is
     * never an input's failure is thrown instead: an interrupt ({@link Interrupts.Interrupted}) and an error
     * marked {@link #stopsTheBatch}. For loops that keep their own record of failures (a sweep's cells).
     */
    public static String reasonOf(RuntimeException e) {
        if (e instanceof Stop stop) {
            throw stop.error;
        }
        if (e instanceof Interrupts.Interrupted) {
            throw e;
        }
        String reason = e instanceof LoraException ? e.getMessage()
                : e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage());
        return reason == null ? "" : reason.replace('\r', ' ').replace('\n', ' ');
    }

    /**
     * Marks {@code e} as not one input's failure (e.g. the model cannot be built): {@link #attempt} and
     * {@link #fail} rethrow {@code e} itself, with or without fail-fast.
     */
    public static RuntimeException stopsTheBatch(RuntimeException e) {
        return e instanceof Stop ? e : new Stop(e);
    }

    private static final class Stop extends RuntimeException {
        final RuntimeException error;

        Stop(RuntimeException error) {
            super(error.getMessage(), error, false, false);
            this.error = error;
        }
    }

    /** Whether {@code file} has failed in this batch (a later pass over the same inputs skips it). */
    public boolean hasFailed(Path file) {
        return failures.stream().anyMatch(f -> Objects.equals(f.file(), file));
    }

    public List<Failure> failures() {
        return List.copyOf(failures);
    }

    /** "2 of 5 pairs left out", for a report's summary; {@code noun} is the plural of what the inputs are. */
    public static String leftOut(int count, int total, String noun) {
        return String.format(Locale.ROOT, "%d of %d %s left out", count, total, noun);
    }

    /** Prints the failures (if any) to {@code err} and returns the exit code: 0, or {@link #EXIT_SOME_FAILED}. */
    public int finish(String what, int total, PrintWriter err) {
        return finish(what, total, failures, err);
    }

    /** {@link #finish(String, int, PrintWriter)} for failures collected elsewhere (e.g. an API's report). */
    public static int finish(String what, int total, List<Failure> failures, PrintWriter err) {
        if (failures.isEmpty()) {
            return 0;
        }
        err.println("error: " + what + ": " + failures.size() + " of " + total + " input(s) failed (left out, the others"
                + " were done):");
        for (Failure f : failures) {
            err.println("  " + f.line());
        }
        err.flush();
        return EXIT_SOME_FAILED;
    }
}
