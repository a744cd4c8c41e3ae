package com.loratool.cli;

import java.util.List;
import java.util.stream.Collectors;

/** A command line a user can paste back into a POSIX shell (the "continue with: ..." of train and sweep). */
final class ShellWords {
    private ShellWords() {}

    /** The words joined by spaces, each single-quoted where the shell would read it otherwise. */
    static String line(List<String> words) {
        return words.stream().map(ShellWords::quoted).collect(Collectors.joining(" "));
    }

    static String quoted(String arg) {
        return !arg.isEmpty() && arg.matches("[A-Za-z0-9_./=,:@%+-]+") ? arg : "'" + arg.replace("'", "'\\''") + "'";
    }
}
