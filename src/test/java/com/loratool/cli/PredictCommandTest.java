package com.loratool.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.loratool.io.Npy;
import com.loratool.io.NpyArray;
import com.loratool.model.Fixtures;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code lora predict} end to end against infer_image outputs of the official code. */
class PredictCommandTest {
    @TempDir
    Path tmp;

    private int run(StringWriter err, String... args) {
        CommandLine cl = Main.commandLine();
        cl.setErr(new PrintWriter(err, true));
        return cl.execute(args);
    }

    private void assertPrediction(Path dir, String inputSize, String... extra) throws IOException {
        Path out = tmp.resolve("out-" + dir.getFileName());
        StringWriter err = new StringWriter();
        String[] base = {"predict", "--weights", dir.resolve("weights.pth").toString(), "--input",
            dir.resolve("image.png").toString(), "--output", out.toString(), "--input-size", inputSize, "--device", "cpu"};
        String[] args = Stream.concat(Arrays.stream(base), Arrays.stream(extra))
                .toArray(String[]::new);
        assertEquals(0, run(err, args), err.toString());
        NpyArray want = Npy.read(dir.resolve("expected_depth.npy"));
        NpyArray got = Npy.read(out.resolve("image.npy"));
        assertArrayEquals(want.shape(), got.shape());
        double e = Fixtures.relL2(got.data(), want.data());
        System.out.println(dir.getFileName() + " predict relative L2 " + e);
        assertTrue(e < 1e-3, "relative L2 " + e);
        assertTrue(Files.size(out.resolve("image.png")) > 100);
    }

    @Test
    void tinyMatchesInferImage() throws Exception {
        Path dir = Fixtures.shared("da2-tiny");
        assertPrediction(dir, "98", "--model-config", dir.resolve("model.yaml").toString());
    }

    @Test
    void nonSquareCropMatchesInferImage() throws Exception {
        Path dir = Fixtures.local("da2-tiny-crop");
        assertPrediction(dir, "70", "--model-config", dir.resolve("model.yaml").toString());
    }

    @Test
    void customShapesWithoutConfigAskForOne() {
        StringWriter err = new StringWriter();
        Path w = Fixtures.shared("da2-tiny").resolve("weights.pth");
        int rc = run(err, "predict", "--weights", w.toString(), "--input", w.toString(), "--output", tmp.toString());
        assertEquals(Main.EXIT_USER_ERROR, rc);
        assertTrue(err.toString().contains("weights.pth") && err.toString().contains("--model-config"), err.toString());
    }

    @Test
    void missingWeightsNonCheckpointAndBadImageAreOneLineErrors() throws Exception {
        Path dir = Fixtures.shared("da2-tiny");
        String cfg = dir.resolve("model.yaml").toString();
        StringWriter err = new StringWriter();
        int rc = run(err, "predict", "--weights", tmp.resolve("nope.pth").toString(), "--input",
                dir.resolve("image.png").toString(), "--output", tmp.toString(), "--model-config", cfg);
        assertEquals(Main.EXIT_USER_ERROR, rc);
        assertTrue(err.toString().contains("nope.pth"), err.toString());

        Path junk = Files.writeString(tmp.resolve("junk.pth"), "hello");
        err = new StringWriter();
        rc = run(err, "predict", "--weights", junk.toString(), "--input", dir.resolve("image.png").toString(),
                "--output", tmp.toString(), "--model-config", cfg);
        assertEquals(Main.EXIT_USER_ERROR, rc);
        assertTrue(err.toString().contains("junk.pth"), err.toString());

        Path badImage = Files.writeString(tmp.resolve("broken.png"), "not a png");
        err = new StringWriter();
        rc = run(err, "predict", "--weights", dir.resolve("weights.pth").toString(), "--input", badImage.toString(),
                "--output", tmp.resolve("o").toString(), "--model-config", cfg);
        assertEquals(Main.EXIT_USER_ERROR, rc);
        assertTrue(err.toString().contains("broken.png"), err.toString());
        assertEquals(1, err.toString().strip().lines().count(), err.toString());
        assertFalse(Files.exists(tmp.resolve("o").resolve("broken.npy")));
    }

    @Test
    void checkpointOfAnotherArchitectureIsRejected() {
        // the tiny checkpoint against the vits preset
        Path cfg = tmp.resolve("vits.yaml");
        StringWriter err = new StringWriter();
        try {
            Files.writeString(cfg, "model:\n  encoder: vits\n");
        } catch (IOException e) {
            throw new AssertionError(e);
        }
        Path dir = Fixtures.shared("da2-tiny");
        int rc = run(err, "predict", "--weights", dir.resolve("weights.pth").toString(), "--input",
                dir.resolve("image.png").toString(), "--output", tmp.resolve("out").toString(), "--model-config", cfg.toString());
        assertEquals(Main.EXIT_USER_ERROR, rc);
        assertTrue(err.toString().contains("weights.pth") && err.toString().contains("mis-shaped"), err.toString());
    }
}
