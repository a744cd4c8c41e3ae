package com.loratool.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ai.djl.engine.Engine;
import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** lora doctor on this (CPU) machine: facts printed, CPU checks pass; asking for a GPU names the fix. */
class DoctorCommandTest {

    private static String[] run(String... args) {
        CommandLine cl = Main.commandLine();
        StringWriter out = new StringWriter();
        cl.setOut(new PrintWriter(out));
        int rc = cl.execute(args);
        return new String[] {Integer.toString(rc), out.toString()};
    }

    @Test
    void cpuChecksPassAndTheFactsAreNamed() {
        String fixture = System.getProperty("fixtures.dir", "fixtures") + "/da2-tiny";
        String[] r = run("doctor", "--device", "cpu", "--threads", "1", "--fixture", fixture);
        String out = r[1];
        assertEquals("0", r[0], out);
        assertTrue(out.contains("engine:      PyTorch via DJL "), out);
        assertTrue(out.contains("libtorch:    2.7.1") && out.contains("flavour cpu"), out);
        assertTrue(out.matches("(?s).*natives:     \\S*pytorch\\S*2\\.7\\.1\\S*cpu\\S*.*"), out);
        assertTrue(out.contains("threads:     1 intra-op"), out);
        assertTrue(out.contains("PASS cpu forward vs official PyTorch output"), out);
        assertTrue(out.contains("PASS cpu backward"), out);
        assertTrue(out.contains("doctor: all checks passed"), out);
    }

    @Test
    void gpuWantedOnCpuNativesFailsWithTheFixLine() {
        assumeTrue(Engine.getEngine("PyTorch").getGpuCount() == 0, "a GPU is usable here");
        String fixture = System.getProperty("fixtures.dir", "fixtures") + "/da2-tiny";
        String[] r = run("doctor", "--device", "gpu", "--fixture", fixture);
        assertEquals("1", r[0], r[1]);
        assertTrue(r[1].contains("PROBLEM CPU natives bundled (pytorch-native-cpu") && r[1].contains("-Pcuda"), r[1]);
    }
}
