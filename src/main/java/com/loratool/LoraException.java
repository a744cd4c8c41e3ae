package com.loratool;

import java.nio.file.Path;

/**
 * An error the user can act on: a bad file, a bad option, an impossible configuration.
 *
 * <p>The CLI prints its message as one line (no stack trace unless {@code --verbose}) and exits
 * non-zero. Messages name the file or setting first, then what is wrong with it, e.g.
 * {@code "data/depth/a.npy: truncated .npy (expected 480000 bytes of data, found 1024)"}.
 */
public class LoraException extends RuntimeException {
    public LoraException(String message) {
        super(message);
    }

    public LoraException(String message, Throwable cause) {
        super(message, cause);
    }

    /** An error about one file: {@code "<file>: <problem>"}. */
    public static LoraException file(Path file, String problem) {
        return new LoraException(file + ": " + problem);
    }

    public static LoraException file(Path file, String problem, Throwable cause) {
        return new LoraException(file + ": " + problem, cause);
    }
}
