package com.loratool.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.loratool.io.Checksums;
import com.loratool.io.FolderLock;
import com.loratool.io.HostTensor;
import com.loratool.io.Safetensors;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Issue 21 through the commands: outputs checked against inputs, non-finite values, batches, full stdout. */
class ReliabilityCommandsTest {
    static final Path FIXTURE = ExportImportCommandTest.FIXTURE;
    static final Path WEIGHTS = ExportImportCommandTest.WEIGHTS;

    private static int run(StringWriter err, String... args) {
        return ExportImportCommandTest.run(err, args);
    }

    @Test
    void importIntoItsOwnPeftFolderIsRefusedAndLeavesItUnchanged(@TempDir Path dir) throws Exception {
        Path ck = ExportImportCommandTest.checkpoint(dir, WEIGHTS, Checksums.sha256(WEIGHTS));
        Path peft = dir.resolve("peft");
        StringWriter err = new StringWriter();
        assertEquals(0, run(err, "export", "--checkpoint", ck.toString(), "--format", "peft", "--output", peft.toString()), err.toString());
        byte[] before = Files.readAllBytes(peft.resolve("adapter_config.json"));
        err = new StringWriter();
        assertEquals(2, run(err, "import", "--peft", peft.toString(), "--weights", WEIGHTS.toString(), "--output",
                peft.toString()));
        assertTrue(err.toString().contains("is the input --peft"), err.toString());
        assertArrayEquals(before, Files.readAllBytes(peft.resolve("adapter_config.json")));
        assertFalse(Files.exists(peft.resolve("adapter.safetensors")));
    }

    @Test
    void mergedExportOverTheCheckpointsOwnAdaptersOrTheBaseWeightsIsRefused(@TempDir Path dir) throws Exception {
        Path weights = Files.copy(WEIGHTS, dir.resolve("base.pth"));
        Path ck = ExportImportCommandTest.checkpoint(dir, weights, Checksums.sha256(weights));
        Path adapters = ck.resolve("adapter.safetensors");
        byte[] before = Files.readAllBytes(adapters);
        StringWriter err = new StringWriter();
        assertEquals(2, run(err, "export", "--checkpoint", ck.toString(), "--format", "merged", "--output",
                ck.resolve("x.safetensors").toString()));
        assertTrue(err.toString().contains("lies inside the input --checkpoint"), err.toString());
        assertEquals(2, run(err = new StringWriter(), "export", "--checkpoint", ck.toString(), "--format", "merged",
                "--output", adapters.toString()));
        assertArrayEquals(before, Files.readAllBytes(adapters));
        // the base weights through a symlink: same file
        Path link = Files.createSymbolicLink(dir.resolve("link.pth"), weights);
        byte[] base = Files.readAllBytes(weights);
        assertEquals(2, run(err = new StringWriter(), "export", "--checkpoint", ck.toString(), "--format", "merged",
                "--output", link.toString()));
        assertTrue(err.toString().contains("is the input --checkpoint's base weights"), err.toString());
        assertArrayEquals(base, Files.readAllBytes(weights));
    }

    @Test
    void exportAlphaScaleMustBeFiniteAndTheMergeMustStayFinite(@TempDir Path dir) {
        Path ck = ExportImportCommandTest.checkpoint(dir, WEIGHTS, Checksums.sha256(WEIGHTS));
        for (String s : new String[] {"NaN", "Infinity"}) {
            StringWriter err = new StringWriter();
            assertEquals(2, run(err, "export", "--checkpoint", ck.toString(), "--format", "merged", "--output",
                    dir.resolve("m.pth").toString(), "--alpha-scale", s));
            assertTrue(err.toString().contains("--alpha-scale " + s + ": must be a finite number"), err.toString());
        }
        StringWriter err = new StringWriter();
        assertEquals(2, run(err, "export", "--checkpoint", ck.toString(), "--format", "merged", "--output",
                dir.resolve("m.pth").toString(), "--alpha-scale", "1e300"));
        assertTrue(err.toString().contains("non-finite"), err.toString());
        assertFalse(Files.exists(dir.resolve("m.pth")));
        assertFalse(Files.exists(dir.resolve("m.pth.tmp")));
    }

    @Test
    void nanAdaptersAreRefusedWhenRead(@TempDir Path dir) {
        Path ck = ExportImportCommandTest.checkpoint(dir, WEIGHTS, Checksums.sha256(WEIGHTS));
        Path st = ck.resolve("adapter.safetensors");
        Map<String, HostTensor> t = Safetensors.read(st);
        String first = t.keySet().iterator().next();
        // written behind the writer's back (the writer refuses NaN itself)
        byte[] bytes = NanSafetensors.withNan(st, first);
        try {
            Files.write(st, bytes);
        } catch (java.io.IOException e) {
            throw new AssertionError(e);
        }
        StringWriter err = new StringWriter();
        assertEquals(2, run(err, "predict", "--checkpoint", ck.toString(), "--input", FIXTURE.resolve("image.png").toString(),
                "--output", dir.resolve("out").toString(), "--model-config", FIXTURE.resolve("model.yaml").toString(),
                "--input-size", "98"));
        assertTrue(err.toString().contains("non-finite"), err.toString());
        assertFalse(Files.exists(dir.resolve("out").resolve("image.npy")));
    }

    @Test
    void predictIntoItsInputFolderIsRefused(@TempDir Path dir) throws Exception {
        Path in = Files.createDirectories(dir.resolve("images"));
        Files.copy(FIXTURE.resolve("image.png"), in.resolve("image.png"));
        byte[] before = Files.readAllBytes(in.resolve("image.png"));
        StringWriter err = new StringWriter();
        assertEquals(2, run(err, "predict", "--weights", WEIGHTS.toString(), "--model-config",
                FIXTURE.resolve("model.yaml").toString(), "--input", in.toString(), "--output", in.toString()));
        assertTrue(err.toString().contains("--output") && err.toString().contains("--input"), err.toString());
        assertArrayEquals(before, Files.readAllBytes(in.resolve("image.png")));
        assertEquals(1, Files.list(in).count());
        // one image, output its own folder: image.png would be overwritten by the colour map
        assertEquals(2, run(err = new StringWriter(), "predict", "--weights", WEIGHTS.toString(), "--model-config",
                FIXTURE.resolve("model.yaml").toString(), "--input", in.resolve("image.png").toString(), "--output",
                in.toString()));
        assertTrue(err.toString().contains("is the input --input"), err.toString());
        assertArrayEquals(before, Files.readAllBytes(in.resolve("image.png")));
    }

    @Test
    void predictOnAFolderGoesOnPastACorruptImageAndListsIt(@TempDir Path dir) throws Exception {
        Path in = Files.createDirectories(dir.resolve("images"));
        Files.write(in.resolve("a-bad.png"), "not a png".getBytes(StandardCharsets.UTF_8));
        Files.copy(FIXTURE.resolve("image.png"), in.resolve("b-good.png"));
        Path out = dir.resolve("out");
        StringWriter err = new StringWriter();
        String[] args = {"predict", "--weights", WEIGHTS.toString(), "--model-config", FIXTURE.resolve("model.yaml").toString(),
            "--input", in.toString(), "--output", out.toString(), "--input-size", "98"};
        assertEquals(1, run(err, args), err.toString());
        assertTrue(Files.exists(out.resolve("b-good.npy")), "the good image after the bad one is predicted: " + err);
        assertTrue(err.toString().contains("1 of 2 input(s) failed") && err.toString().contains("a-bad.png"), err.toString());
        // --fail-fast: the old behaviour
        Path out2 = dir.resolve("out2");
        String[] ff = args.clone();
        ff[ff.length - 3] = out2.toString();
        String[] withFf = Arrays.copyOf(ff, ff.length + 1);
        withFf[ff.length] = "--fail-fast";
        assertEquals(2, run(err = new StringWriter(), withFf), err.toString());
        assertFalse(Files.exists(out2.resolve("b-good.npy")));
    }

    @Test
    void benchmarkOutputThatIsAFileIsRefusedBeforeTheBenchmark(@TempDir Path dir) throws Exception {
        Path file = Files.writeString(dir.resolve("results"), "keep me");
        StringWriter err = new StringWriter();
        long t0 = System.nanoTime();
        assertEquals(2, run(err, "benchmark", "--synthetic", "--grid", "batch=1; size=28x28; images=2", "--epochs", "1",
                "--measure-epochs", "1", "--no-inference", "--output", file.toString()));
        assertTrue(err.toString().contains("exists and is not a folder"), err.toString());
        assertEquals("keep me", Files.readString(file));
        assertTrue(System.nanoTime() - t0 < 20_000_000_000L);
    }

    @Test
    void evalIntoAFolderAnotherEvalHoldsNamesOnlyWhatEvalHas(@TempDir Path dir) throws Exception {
        Path ck = ExportImportCommandTest.checkpoint(dir.resolve("ck"), WEIGHTS, Checksums.sha256(WEIGHTS));
        Path out = dir.resolve("report");
        try (FolderLock held = FolderLock.acquire(out, "lora eval")) {
            StringWriter err = new StringWriter();
            assertEquals(2, run(err, "eval", "--checkpoint", ck.toString(), "--data", "data-samples", "--split", "all", "--output",
                    out.toString()));
            assertTrue(err.toString().contains("in use by another lora eval"), err.toString());
            assertFalse(err.toString().contains("--force-unlock"), "lora eval has no --force-unlock: " + err);
        }
    }

    @Test
    void evalIntoATrainingRunFolderIsRefused(@TempDir Path dir) throws Exception {
        Path run = Files.createDirectories(dir.resolve("runs/r"));
        Files.writeString(run.resolve("config.yaml"), "model: {}\n");
        Files.writeString(run.resolve("metrics.csv"), "epoch\n1\n");
        Path ck = ExportImportCommandTest.checkpoint(dir.resolve("other"), WEIGHTS, Checksums.sha256(WEIGHTS));
        StringWriter err = new StringWriter();
        assertEquals(2, run(err, "eval", "--checkpoint", ck.toString(), "--data", FIXTURE.toString(), "--output",
                run.toString()));
        assertTrue(err.toString().contains("is a training run folder"), err.toString());
        assertEquals("epoch\n1\n", Files.readString(run.resolve("metrics.csv")));
    }

    @Test
    void aFailedWriteToStandardOutputIsAnError() {
        PrintStream full = new PrintStream(new OutputStream() {
            @Override
            public void write(int b) throws IOException {
                throw new IOException("No space left on device");
            }
        }, true);
        full.println("result");
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        assertEquals(Main.EXIT_USER_ERROR, Main.finish(0, full, new PrintStream(err, true)));
        assertTrue(err.toString().contains("cannot write to standard output"));
        assertEquals(0, Main.finish(0, new PrintStream(new ByteArrayOutputStream()), new PrintStream(err)));
    }
}
