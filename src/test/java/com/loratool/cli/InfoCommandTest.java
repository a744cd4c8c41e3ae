package com.loratool.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.loratool.model.Fixtures;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class InfoCommandTest {
    @Test
    void printsArchitectureCountsAndLayerGroups() {
        Path dir = Fixtures.shared("da2-tiny");
        StringWriter out = new StringWriter();
        CommandLine cl = Main.commandLine();
        cl.setOut(new PrintWriter(out, true));
        int rc = cl.execute("info", "--weights", dir.resolve("weights.pth").toString(), "--model-config",
                dir.resolve("model.yaml").toString());
        assertEquals(0, rc);
        String s = out.toString();
        // 292,361 parameters: printed by make_fixture.py for the tiny architecture
        assertTrue(s.contains("292,361 total"), s);
        assertTrue(s.contains("custom (embed_dim 48, depth 4, heads 3"), s);
        assertTrue(s.contains("head:          relative (ReLU"), s);
        assertTrue(s.matches("(?s).*pretrained\\.blocks\\.\\*\\.attn\\.qkv\\s+x4\\s+Linear 48->144.*"), s);
        assertTrue(s.matches("(?s).*depth_head\\.scratch\\.refinenet\\*\\.resConfUnit1\\.conv1\\s+x4\\s+Conv2d 3x3 16->16.*"), s);
    }

    @Test
    void metricModelShowsItsHeadAndMaxDepth() {
        Path dir = Fixtures.shared("da2-tiny-metric");
        StringWriter out = new StringWriter();
        CommandLine cl = Main.commandLine();
        cl.setOut(new PrintWriter(out, true));
        int rc = cl.execute("info", "--weights", dir.resolve("weights.pth").toString(), "--model-config",
                dir.resolve("model.yaml").toString());
        assertEquals(0, rc);
        String s = out.toString();
        assertTrue(s.contains("head:          metric (Sigmoid x max_depth 20 m, output in metres)"), s);
    }
}
