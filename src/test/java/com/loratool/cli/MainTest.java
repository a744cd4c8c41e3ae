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
}
