package com.loratool.cli;

import com.loratool.LoraException;
import com.loratool.io.Interrupts;
import picocli.CommandLine;

/** Turns known errors into one line on stderr and an exit code; stack traces only with --verbose. */
final class ErrorHandler implements CommandLine.IExecutionExceptionHandler {
    @Override
    public int handleExecutionException(Exception ex, CommandLine cl, CommandLine.ParseResult parsed) {
        boolean verbose = verbose(parsed);
        if (verbose) {
            ex.printStackTrace(cl.getErr());
        }
        Throwable user = ex;
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
        String msg = ex.getMessage() == null ? ex.getClass().getSimpleName() : ex.getClass().getSimpleName() + ": " + ex.getMessage();
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
