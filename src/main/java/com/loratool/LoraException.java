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
        super(oneLine(message));
    }

    public LoraException(String message, Throwable cause) {
        super(oneLine(message), cause);
    }

    /**
     * Messages quote what users wrote (config values, file names, header text): their line breaks
     * and other control characters become '?' (a tab a space), so an error is always one line.
     */
    static String oneLine(String message) {
        if (message == null) {
            return null;
        }
        StringBuilder sb = null;
        for (int i = 0; i < message.length(); i++) {
            char c = message.charAt(i);
            boolean control = Character.isISOControl(c) || c == '\u2028' || c == '\u2029';
            if (control && sb == null) {
                sb = new StringBuilder(message.substring(0, i));
            }
            if (sb != null) {
                sb.append(!control ? c : c == '\t' ? ' ' : '?');
            }
        }
        return sb == null ? message : sb.toString();
    }

    /** An error about one file: {@code "<file>: <problem>"}. */
    public static LoraException file(Path file, String problem) {
        return new LoraException(file + ": " + problem);
    }

    public static LoraException file(Path file, String problem, Throwable cause) {
        return new LoraException(file + ": " + problem, cause);
    }
}
