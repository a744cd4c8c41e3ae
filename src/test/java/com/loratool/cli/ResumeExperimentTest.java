package com.loratool.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.loratool.api.Training;
import com.loratool.config.RunConfig;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 27, class 4: {@code --resume} refuses any change that makes the run another experiment
 * (data, split, size rule, loss, model), naming the difference and the changes it accepts, and
 * leaves the run folder as it was. {@code --set data.root=<other data>} trained on other images,
 * rewrote split.json and config.yaml, and metrics.csv mixed two validation sets. A resume that
 * asks for no more epochs than the run has done said nothing.
 */
class ResumeExperimentTest {
    @TempDir
    Path out;

    private Path dir;
    private byte[] config;
    private byte[] split;
    private byte[] metrics;

    @BeforeEach
    void trainTwoEpochs() throws Exception {
        dir = out.resolve("smoke");
        TrainCommandTest.Run r = TrainFaultsTest.train(out, "--set", "train.epochs=2");
        assertEquals(0, r.code(), r.err());
        config = Files.readAllBytes(dir.resolve("config.yaml"));
        split = Files.readAllBytes(dir.resolve("split.json"));
        metrics = Files.readAllBytes(dir.resolve("metrics.csv"));
    }

    private void assertUnchanged() throws Exception {
        assertArrayEquals(config, Files.readAllBytes(dir.resolve("config.yaml")), "config.yaml changed");
        assertArrayEquals(split, Files.readAllBytes(dir.resolve("split.json")), "split.json changed");
        assertArrayEquals(metrics, Files.readAllBytes(dir.resolve("metrics.csv")), "metrics.csv changed");
    }

    /** A resume with these settings, refused: its one error line. */
    private String refused(String... sets) throws Exception {
        TrainCommandTest.Run r = TrainFaultsTest.train(out, sets);
        assertEquals(2, r.code(), r.err());
        String e = TrainFaultsTest.oneLine(r);
        assertUnchanged();
        return e;
    }

    private static void copyTree(Path from, Path to) throws Exception {
        try (Stream<Path> s = Files.walk(from)) {
            for (Path p : s.toList()) {
                Path q = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(q);
                } else {
                    Files.copy(p, q);
                }
            }
        }
    }

    @Test
    void otherDataIsRefusedNamingTheKeyAndWhatResumeAccepts() throws Exception {
        Path other = out.resolve("other-data");
        copyTree(Path.of("data-samples"), other);
        String e = refused("--resume", "--set", "train.epochs=3", "--set", "data.root=" + other);
        assertTrue(e.startsWith("error: " + dir + ": --resume: data.root differs: data-samples in the run, " + other
                + " now; that makes it another experiment"), e);
        assertTrue(e.contains("--resume accepts changes of train.epochs, train.lr,"), e);
        assertTrue(e.contains("data.augment"), e);
        assertTrue(e.contains("start a new run (--force, or another train.run_name)"), e);

        assertTrue(refused("--resume", "--set", "train.epochs=3", "--set", "data.val_fraction=0.5")
                .contains("--resume: data.val_fraction differs: 0.25 in the run, 0.5 now;"));
        assertTrue(refused("--resume", "--set", "train.epochs=3", "--set", "data.seed=3")
                .contains("--resume: data.seed differs: 0 in the run, 3 now;"));
        assertTrue(refused("--resume", "--set", "train.epochs=3", "--set", "train.loss=silog")
                .contains("--resume: train.loss differs: ssi in the run, silog now;"));
        assertTrue(refused("--resume", "--set", "train.epochs=3", "--set", "data.depth_scale=0.001")
                .contains("--resume: data.depth_scale differs: 1.0 in the run, 0.001 now;"));
        assertTrue(refused("--resume", "--set", "train.epochs=3", "--set", "train.val_metric=abs_rel")
                .contains("--resume: train.val_metric differs: val_loss in the run, abs_rel now;"));
    }

    @Test
    void aChangedSplitIsRefused() throws Exception {
        // the same folder with one more pair: another split, another validation set
        Path data = out.resolve("data");
        copyTree(Path.of("data-samples"), data);
        TrainCommandTest.Run r = TrainFaultsTest.train(out, "--set", "train.epochs=1", "--set", "data.root=" + data,
                "--set", "train.run_name=grown");
        assertEquals(0, r.code(), r.err());
        Path grown = out.resolve("grown");
        byte[] splitBefore = Files.readAllBytes(grown.resolve("split.json"));
        Path images = data.resolve("images");
        Path depth = data.resolve("depth");
        String img;
        String dep;
        try (Stream<Path> s = Files.list(images)) {
            img = s.map(p -> p.getFileName().toString()).sorted().findFirst().orElseThrow();
        }
        try (Stream<Path> s = Files.list(depth)) {
            dep = s.map(p -> p.getFileName().toString()).sorted().findFirst().orElseThrow();
        }
        Files.copy(images.resolve(img), images.resolve("zz_extra" + img.substring(img.lastIndexOf('.'))));
        Files.copy(depth.resolve(dep), depth.resolve("zz_extra" + dep.substring(dep.lastIndexOf('.'))));
        r = TrainFaultsTest.train(out, "--resume", "--set", "train.epochs=2", "--set", "data.root=" + data,
                "--set", "train.run_name=grown");
        assertEquals(2, r.code(), r.err());
        String e = TrainFaultsTest.oneLine(r);
        assertTrue(e.startsWith("error: " + grown + ": --resume: the split differs from the run's split.json:"
                + " 'zz_extra' is new"), e);
        assertArrayEquals(splitBefore, Files.readAllBytes(grown.resolve("split.json")));
        assertEquals(2, Files.readAllLines(grown.resolve("metrics.csv")).size());
    }

    @Test
    void fewerEpochsThanDoneIsRefusedAndAsManySaysThereIsNothingToTrain() throws Exception {
        String e = refused("--resume", "--set", "train.epochs=1");
        assertEquals("error: " + dir + ": --resume: train.epochs is 1, but the run has done 2 epochs; set train.epochs"
                + " above 2 to train more", e);
        // as many epochs as done: nothing to train, said in one line; exit 0 and the folder unchanged
        RunConfig cfg = Training.config(Path.of("configs/smoke.yaml"),
                List.of("train.output_dir=" + out, "train.epochs=2", "train.lr=5e-4"));
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        Training.Result res = Training.of(cfg).resume(true).quiet(true)
                .log(new PrintStream(log, true, StandardCharsets.UTF_8)).run();
        assertEquals(0, res.epochsRun());
        assertEquals("nothing to train: " + dir + " has done its 2 of 2 epochs (train.epochs); raise train.epochs"
                + " to train more", log.toString(StandardCharsets.UTF_8).trim());
        assertUnchanged();
        TrainCommandTest.Run r = TrainFaultsTest.train(out, "--resume", "--set", "train.epochs=2");
        assertEquals(0, r.code(), r.err());
        assertUnchanged();
    }
}
