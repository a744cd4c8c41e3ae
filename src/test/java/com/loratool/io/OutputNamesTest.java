package com.loratool.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.loratool.LoraException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Issue 27, class 1: a batch's inputs never map to one output name; an output file is never an input. */
class OutputNamesTest {
    @TempDir
    Path tmp;

    private static String refusal(Runnable r) {
        String m = assertThrows(LoraException.class, r::run).getMessage();
        assertEquals(1, m.lines().count(), m);
        return m;
    }

    @Test
    void twoInputsClaimingOneNameAreRefusedNamingBoth() {
        Path out = tmp.resolve("out");
        List<Path> in = List.of(Path.of("img/a.png"), Path.of("img/a.jpg"), Path.of("img/b.png"));
        String m = refusal(() -> OutputNames.claim("predict", out, in, p -> List.of(OutputNames.stem(p) + ".npy"),
                "named by the file name without its extension"));
        assertTrue(m.contains("a.png") && m.contains("a.jpg") && m.contains(out.resolve("a.npy").toString()), m);
        // one input's name may not be another's either: a with a suffix added
        m = refusal(() -> OutputNames.claim("predict", out, List.of(Path.of("a.png"), Path.of("a_depth.png")),
                p -> List.of(OutputNames.stem(p) + ".npy", OutputNames.stem(p) + "_depth.npy"), "by stem"));
        assertTrue(m.contains("a_depth.npy"), m);
        // names that differ only in case are one file on macOS and Windows
        m = refusal(() -> OutputNames.claim("data preview", out, List.of(Path.of("A.png"), Path.of("a.png")),
                p -> List.of(OutputNames.stem(p) + "_rgb.png"), "by stem"));
        assertTrue(m.contains("A.png") && m.contains("a.png"), m);
        // one input writing the same name twice is its own business (and never happens): not a collision
        Map<Path, List<Path>> ok = OutputNames.claim("predict", out, List.of(Path.of("a.png"), Path.of("b.png")),
                p -> List.of(OutputNames.stem(p) + ".npy", OutputNames.stem(p) + ".png"), "by stem");
        assertEquals(List.of(out.resolve("a.npy"), out.resolve("a.png")), ok.get(Path.of("a.png")));
        assertEquals(2, ok.size());
    }

    @Test
    void anOutputFileThatIsAnInputIsRefused() throws Exception {
        Path out = Files.createDirectories(tmp.resolve("out"));
        Path sensor = Files.writeString(out.resolve("x.npy"), "keep");
        Path other = Files.writeString(tmp.resolve("y.npy"), "keep");
        Path hard = Files.createLink(out.resolve("h.npy"), other);
        String m = refusal(() -> OutputGuard.ofFolder("--output", out).input("--align-to", sensor)
                .outputFiles("--output", List.of(out.resolve("x.png"), out.resolve("x.npy"))).check());
        assertTrue(m.contains("--align-to") && m.contains("x.npy") && m.contains("--output"), m);
        // by file key: a hard link is the same file
        m = refusal(() -> OutputGuard.ofFolder("--output", out).input("--input", other)
                .outputFiles("--output", List.of(hard)).check());
        assertTrue(m.contains("--input"), m);
        // through a symlinked folder
        Path link = Files.createSymbolicLink(tmp.resolve("link"), out);
        refusal(() -> OutputGuard.ofFolder("--output", link).input("--align-to", sensor)
                .outputFiles("--output", List.of(link.resolve("x.npy"))).check());
        // other names in the folder: fine
        OutputGuard.ofFolder("--output", out).input("--align-to", sensor)
                .outputFiles("--output", List.of(out.resolve("x_depth.npy"), out.resolve("x.png"))).check();
        assertEquals("keep", Files.readString(sensor));
    }
}
