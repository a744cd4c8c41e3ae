package com.loratool.train;

import com.loratool.LoraException;
import java.io.IOException;
import java.io.PrintStream;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.LocalTime;
import java.time.format.DateTimeFormatter;

/** The run's log: every line goes to {@code <run>/train.log}; {@link #info} also to the console. */
public final class RunLog implements AutoCloseable {
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("HH:mm:ss");
    private final Writer file;
    private final PrintStream console;

    /** A log that goes nowhere (a run without a folder: the benchmark). */
    public static RunLog none() {
        return new RunLog();
    }

    private RunLog() {
        this.file = null;
        this.console = null;
    }

    public RunLog(Path logFile, PrintStream console, boolean append) {
        this.console = console;
        try {
            Files.createDirectories(logFile.getParent());
            this.file = Files.newBufferedWriter(logFile, StandardCharsets.UTF_8, StandardOpenOption.CREATE,
                    append ? StandardOpenOption.APPEND : StandardOpenOption.TRUNCATE_EXISTING);
        } catch (IOException e) {
            throw LoraException.file(logFile, "cannot write log: " + e.getMessage());
        }
    }

    /** To the log file and the console. */
    public void info(String line) {
        fileOnly(line);
        if (console != null) {
            console.println(line);
        }
    }

    /** To the log file only. */
    public void fileOnly(String line) {
        if (file == null) {
            return;
        }
        try {
            file.write(LocalTime.now().format(TIME) + " " + line + "\n");
            file.flush();
        } catch (IOException e) {
            // the log is a convenience; training goes on
        }
    }

    @Override
    public void close() {
        if (file == null) {
            return;
        }
        try {
            file.close();
        } catch (IOException e) {
            // nothing to do
        }
    }
}
