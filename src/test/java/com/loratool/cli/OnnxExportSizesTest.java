package com.loratool.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code export --format onnx --input-size} with numbers that are legal but absurd (issue 27, class 6):
 * every size is a one-line user error or an export, never an internal error (integer overflow), and a
 * size that does not fit in memory is refused before anything is allocated.
 */
class OnnxExportSizesTest {
    static final String WEIGHTS = ExportImportCommandTest.WEIGHTS.toString();
    static final String YAML = OnnxCommandTest.YAML;

    @TempDir
    Path dir;

    private String[] export(String size, String... more) {
        List<String> a = new ArrayList<>(List.of("export", "--format", "onnx", "--weights", WEIGHTS, "--model-config", YAML,
                "--input-size", size, "--output", dir.resolve("m.onnx").toString()));
        a.addAll(List.of(more));
        return a.toArray(String[]::new);
    }

    /** Exit 2, one line starting with {@code start}, nothing in the output folder. */
    private String refused(String[] args, String start) throws Exception {
        StringWriter err = new StringWriter();
        int rc = ExportImportCommandTest.run(err, args);
        String e = err.toString().strip();
        assertEquals(2, rc, String.join(" ", args) + ": " + e);
        assertEquals(1, e.lines().count(), e);
        assertTrue(e.startsWith(start), String.join(" ", args) + ": " + e);
        assertFalse(e.contains("internal error"), e);
        assertFalse(e.contains("-2147") && !String.join(" ", args).contains("-2147"), "an overflowed number: " + e);
        assertEquals(List.of(), List.of(OnnxCommandTestFiles.names(dir)), "nothing written for " + String.join(" ", args));
        return e;
    }

    @Test
    void hugeSizesAreOneLineWithOrWithoutTheMemoryCheck() throws Exception {
        for (String size : new String[] {"140000", "2147483646", "14x2147483646", "2147483646x14"}) {
            for (String[] more : new String[][] {{}, {"--dynamic"}, {"--no-memory-check"}, {"--dynamic", "--no-memory-check"}}) {
                String e = refused(export(size, more), "error: --input-size " + size + ": ");
                assertTrue(e.contains("too large"), e);
            }
        }
    }

    @Test
    void sizesThatAreNotSizesAreOneLine() throws Exception {
        for (String size : new String[] {"-14", "0", "0x14", "14x-14", "-2147483648"}) {
            assertTrue(refused(export(size), "error: --input-size ").contains("must be positive"), size);
        }
        for (String size : new String[] {"14x14x", "x14", "14xx14", "1e3", "99999999999", "14x99999999999", ""}) {
            refused(export(size), "error: --input-size " + size + ": ");
        }
        // not a multiple of the patch size: the suggestions are positive multiples
        assertTrue(refused(export("5"), "error: --input-size 5: ").contains("(e.g. 14)"), "5");
        String e = refused(export("2147483647"), "error: --input-size 2147483647: ");
        assertTrue(e.contains("multiple of the patch size 14") && e.contains("2147483646"), e);
    }

    @Test
    void aSizeThatDoesNotFitInMemoryIsRefusedBeforeAllocating() throws Exception {
        // 14000 x 14000 fits every array, but ONNX Runtime's attention alone holds 3 heads x (1000^2+1)^2 float scores
        long t0 = System.nanoTime();
        String e = refused(export("14000"), "error: export --format onnx at 14000x14000");
        assertTrue(e.contains("needs about ") && e.contains(" of memory (estimate), ")
                && e.endsWith("(--no-memory-check to try anyway)"), e);
        assertTrue(e.contains("ONNX Runtime"), "names the step that needs it: " + e);
        e = refused(export("14000", "--dynamic"), "error: export --format onnx at 14000x14000");
        assertTrue((System.nanoTime() - t0) / 1e9 < 60, "refused before the work: " + (System.nanoTime() - t0) / 1e9 + " s");
    }

    @Test
    void theSmallestSizesExport() throws Exception {
        StringWriter err = new StringWriter();
        assertEquals(0, ExportImportCommandTest.run(err, export("14", "--dynamic")), err.toString());
        assertTrue(Files.exists(dir.resolve("m.onnx")));
    }
}
