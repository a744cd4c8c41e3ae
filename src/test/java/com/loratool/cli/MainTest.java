package com.loratool.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class MainTest {
    @Test
    void versionNamesTheTool() {
        CommandLine cl = Main.commandLine();
        StringWriter out = new StringWriter();
        cl.setOut(new PrintWriter(out));
        assertEquals(0, cl.execute("--version"));
        assertTrue(out.toString().startsWith("lora "), out.toString());
        assertTrue(out.toString().contains("natives: cpu (pytorch-native-cpu 2.7.1"), out.toString());
    }

    @Test
    void unknownOptionIsAUsageError() {
        CommandLine cl = Main.commandLine();
        cl.setErr(new PrintWriter(new StringWriter()));
        assertEquals(2, cl.execute("--no-such-option"));
    }

    /** picocli reports a bad format string (e.g. an unescaped %) on System.err while rendering help. */
    @Test
    void everyCommandsHelpRendersWithoutPicocliWarnings() {
        PrintStream saved = System.err;
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        StringWriter out = new StringWriter();
        try {
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            CommandLine root = Main.commandLine();
            root.setOut(new PrintWriter(out));
            Deque<CommandLine> todo = new ArrayDeque<>(List.of(root));
            while (!todo.isEmpty()) {
                CommandLine c = todo.pop();
                c.usage(new PrintWriter(out));
                todo.addAll(c.getSubcommands().values());
            }
        } finally {
            System.setErr(saved);
        }
        // only picocli's own reports count (a fuzz test's Jazzer agent in the same JVM logs class loads)
        String e = err.toString(StandardCharsets.UTF_8).lines().filter(l -> l.contains("picocli"))
                .reduce("", (a, b) -> a + b + "\n");
        assertEquals("", e, "help output produced warnings");
        assertTrue(out.toString().contains("% missing"), "DataCommand's check description renders its percent sign");
    }

    @CommandLine.Command(name = "boom")
    static final class Boom implements Runnable {
        final Error error;

        Boom(Error error) {
            this.error = error;
        }

        @Override
        public void run() {
            throw error;
        }
    }

    private static String[] run(Error error) {
        CommandLine cl = Main.commandLine();
        cl.addSubcommand("boom", new Boom(error));
        StringWriter err = new StringWriter();
        cl.setErr(new PrintWriter(err));
        int code = cl.execute("boom");
        return new String[] {String.valueOf(code), err.toString()};
    }

    /** An Error from a command (a native loader's static initialiser) is one line, not a stack trace out of main. */
    @Test
    void anErrorInACommandIsOneInternalErrorLine() {
        String[] r = run(new ExceptionInInitializerError("native library failed\n\tat somewhere"));
        assertEquals("3", r[0]);
        assertEquals("internal error: ExceptionInInitializerError: native library failed (run with --verbose for the"
                + " stack trace)", r[1].strip());
    }

    @Test
    void runningOutOfHeapSaysHowToGiveMore() {
        String[] r = run(new OutOfMemoryError("Java heap space"));
        assertEquals("2", r[0]);
        assertTrue(r[1].startsWith("error: out of Java heap (Java heap space); give the JVM more with LORA_JAVA_OPTS"), r[1]);
        assertEquals(1, r[1].strip().lines().count(), r[1]);
    }
}
