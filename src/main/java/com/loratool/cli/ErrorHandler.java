package com.loratool.cli;

import com.loratool.LoraException;
import com.loratool.io.Interrupts;
import com.loratool.model.NativeRuntime;
import picocli.CommandLine;

/** Turns known errors into one line on stderr and an exit code; stack traces only with --verbose. */
final class ErrorHandler implements CommandLine.IExecutionExceptionHandler {
    @Override
    public int handleExecutionException(Exception ex, CommandLine cl, CommandLine.ParseResult parsed) {
        boolean verbose = verbose(parsed);
        if (verbose) {
            ex.printStackTrace(cl.getErr());
        }
        Throwable user = NativeRuntime.unpackFailure(ex).map(Throwable.class::cast).orElse(ex);
        while (user != null && !(user instanceof LoraException)) {
            user = user.getCause();
        }
        if (user instanceof Interrupts.Interrupted stop) {
            cl.getErr().println(stop.getMessage());
            return stop.exitCode();
        }
        if (user != null) {
            cl.getErr().println("error: " + user.getMessage());
            return Main.EXIT_USER_ERROR;
        }
        // an Error (ExceptionInInitializerError, OutOfMemoryError) comes wrapped by Main's execution strategy
        Throwable shown = ex instanceof CommandLine.ExecutionException && ex.getCause() instanceof Error err ? err : ex;
        if (shown instanceof OutOfMemoryError) {
            cl.getErr().println("error: out of Java heap (" + shown.getMessage() + "); give the JVM more with"
                    + " LORA_JAVA_OPTS=\"-Xss4m -Xmx<size>\" or lower the batch or image size");
            return Main.EXIT_USER_ERROR;
        }
        String msg = shown.getMessage() == null ? shown.getClass().getSimpleName()
                : shown.getClass().getSimpleName() + ": " + shown.getMessage().lines().findFirst().orElse("");
        cl.getErr().println("internal error: " + msg + (verbose ? "" : " (run with --verbose for the stack trace)"));
        return Main.EXIT_INTERNAL_ERROR;
    }

    /** Whether {@code -v/--verbose} was given to the command that ran (or any command above it). */
    static boolean verbose(CommandLine.ParseResult parsed) {
        for (CommandLine.ParseResult p = parsed; p != null; p = p.subcommand()) {
            if (p.hasMatchedOption("--verbose")) {
                return true;
            }
        }
        return false;
    }
}
