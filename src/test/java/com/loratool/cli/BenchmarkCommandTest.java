package com.loratool.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class BenchmarkCommandTest {
    @TempDir
    Path dir;

    private static String[] run(String... args) {
        CommandLine cl = Main.commandLine();
        StringWriter err = new StringWriter();
        cl.setErr(new PrintWriter(err));
        int rc = cl.execute(args);
        return new String[] {Integer.toString(rc), err.toString()};
    }

    @Test
    void badGridIsAOneLineUserError() {
        String[] r = run("benchmark", "--synthetic", "--grid", "batch=0", "--output", dir.toString());
        assertEquals("2", r[0]);
        assertEquals("error: --grid: batch must be >= 1, got 0", r[1].trim());
    }

    @Test
    void needsConfigOrSynthetic() {
        String[] r = run("benchmark", "--output", dir.toString());
        assertEquals("2", r[0]);
        assertTrue(r[1].startsWith("error: benchmark: give --config FILE, or --synthetic"), r[1]);
    }

    @Test
    void missingBaselineNamesTheFile() {
        String[] r = run("benchmark", "--synthetic", "--baseline", dir.resolve("nope.jsonl").toString(), "--output", dir.toString());
        assertEquals("2", r[0]);
        assertTrue(r[1].contains("nope.jsonl: file not found"), r[1]);
    }

    @Test
    void aSizeThatCannotFitIsRefusedBeforeAnythingIsAllocated() throws Exception {
        Path out = dir.resolve("out");
        // 69986 = 14 * 4999: a legal size whose activations no machine holds
        String[] r = run("benchmark", "--synthetic", "--grid", "size=69986x69986", "--output", out.toString());
        assertEquals("2", r[0], r[1]);
        assertTrue(r[1].contains("benchmark vits at 69986x69986") && r[1].contains("--no-memory-check"), r[1]);
        assertTrue(!Files.exists(out) || Files.list(out).findAny().isEmpty(), "nothing written");
    }

    @Test
    void listedInHelp() {
        CommandLine cl = Main.commandLine();
        assertTrue(cl.getSubcommands().containsKey("benchmark"));
        assertTrue(cl.getUsageMessage().contains("benchmark"));
    }
}
