package com.loratool.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.loratool.api.Training;
import com.loratool.config.RunConfig;
import com.loratool.train.TinyModels;
import com.loratool.train.TrainingListener;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 14, parts 1-3 and the run-folder cases of part 6, through the CLI entry: concurrent runs
 * into one folder, --resume that checks what it resumes, a refused run that changes nothing.
 */
class TrainFaultsTest {
    @TempDir
    Path out;

    static TrainCommandTest.Run train(Path out, String... extra) {
        List<String> a = new ArrayList<>(List.of("train", "--config", "configs/smoke.yaml", "--quiet",
                "--set", "train.output_dir=" + out));
        a.addAll(List.of(extra));
        return TrainCommandTest.run(a.toArray(String[]::new));
    }

    static String oneLine(TrainCommandTest.Run r) {
        String e = r.err().trim();
        assertEquals(1, e.lines().count(), e);
        return e;
    }

    @Test
    void aSecondRunIntoABusyFolderIsRefusedNamingFolderAndOwner() throws Exception {
        Path dir = out.resolve("smoke");
        // the first run owns the folder and is held inside its first epoch until the second was refused
        CountDownLatch inside = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        TrainingListener hold = new TrainingListener() {
            @Override
            public void onEpochEnd(EpochEnd end) {
                if (end.epoch() == 1) {
                    inside.countDown();
                    try {
                        release.await(120, TimeUnit.SECONDS);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
            }
        };
        RunConfig cfg = Training.config(Path.of("configs/smoke.yaml"),
                List.of("train.output_dir=" + out, "train.epochs=3"));
        ExecutorService pool = Executors.newSingleThreadExecutor();
        try {
            Future<Training.Result> first = pool.submit(() -> Training.of(cfg).quiet(true)
                    .log(new PrintStream(OutputStream.nullOutputStream())).listener(hold).run());
            assertTrue(inside.await(120, TimeUnit.SECONDS), "the first run reached its first epoch's end");
            assertFalse(first.isDone());
            TrainCommandTest.Run second = train(out, "--set", "train.epochs=1", "--force");
            assertEquals(2, second.code(), second.err());
            String e = oneLine(second);
            assertTrue(e.startsWith("error: " + dir + ": in use by another lora train (pid "
                    + ProcessHandle.current().pid() + " on "), e);
            assertTrue(e.contains("(if that process is gone: --force-unlock, or delete "), e); // lora train has it
            release.countDown();
            assertEquals(3, first.get().epochsRun());
        } finally {
            release.countDown();
            pool.shutdownNow();
        }
        // only the first run's results, and the lock is gone
        assertEquals(4, Files.readAllLines(dir.resolve("metrics.csv")).size());
        assertTrue(Files.readString(dir.resolve("config.yaml")).contains("epochs: 3"));
        assertFalse(Files.exists(dir.resolve(".lock")));
    }

    @Test
    void twoRunsStartedTogetherOneTrainsTheOtherIsRefused() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(2);
        CountDownLatch go = new CountDownLatch(1);
        try {
            List<Future<TrainCommandTest.Run>> runs = new ArrayList<>();
            for (int k = 0; k < 2; k++) {
                runs.add(pool.submit(() -> {
                    go.await();
                    return train(out, "--set", "train.epochs=1");
                }));
            }
            go.countDown();
            TrainCommandTest.Run a = runs.get(0).get();
            TrainCommandTest.Run b = runs.get(1).get();
            TrainCommandTest.Run ok = a.code() == 0 ? a : b;
            TrainCommandTest.Run refused = a.code() == 0 ? b : a;
            assertEquals(0, ok.code(), ok.err());
            assertEquals(2, refused.code(), refused.err());
            String e = oneLine(refused);
            // refused by the lock, or (if the first had already finished) by its complete run
            assertTrue(e.contains("in use by another lora train (pid ") || e.contains("already holds a run"), e);
            assertFalse(e.contains("cannot write"), e);
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void resumeRefusesAnotherSeedOfARandomBaseAndChangesNothing() throws Exception {
        Path dir = out.resolve("smoke");
        assertEquals(0, train(out, "--set", "train.epochs=1").code());
        byte[] config = Files.readAllBytes(dir.resolve("config.yaml"));
        String log = Files.readString(dir.resolve("train.log"));
        TrainCommandTest.Run r = train(out, "--resume", "--set", "train.epochs=2", "--set", "train.seed=7");
        assertEquals(2, r.code(), r.err());
        assertTrue(oneLine(r).startsWith("error: " + dir + ": --resume: train.seed differs: 42 in the run, 7 now"), r.err());
        // part 3: the refused resume left the run folder as it was
        assertTrue(java.util.Arrays.equals(config, Files.readAllBytes(dir.resolve("config.yaml"))), "config.yaml changed");
        assertEquals(log, Files.readString(dir.resolve("train.log")));
        assertFalse(Files.exists(dir.resolve(".lock")));

        r = train(out, "--resume", "--set", "train.epochs=2", "--set", "lora.r=8");
        assertEquals(2, r.code(), r.err());
        assertTrue(oneLine(r).contains("--resume: lora.r differs: 4 in the run, 8 now"), r.err());
        r = train(out, "--resume", "--set", "train.epochs=2", "--set", "lora.targets=[qkv]");
        assertTrue(oneLine(r).contains("--resume: lora.targets differs: [\"linear\"] in the run, [\"qkv\"] now"), r.err());
        r = train(out, "--resume", "--set", "train.epochs=2", "--set", "data.scale=12");
        assertTrue(oneLine(r).contains("--resume: data.scale (network size) differs: 10 in the run, 12 now"), r.err());
        Path wider = out.resolve("wider.yaml");
        Files.writeString(wider, Files.readString(Path.of("configs/tiny-model.yaml")).replace("features: 16", "features: 24"));
        r = train(out, "--resume", "--set", "train.epochs=2", "--set", "model.config=" + wider);
        assertTrue(oneLine(r).contains("--resume: the architecture differs: features differs: 16 in the run, 24 now"),
                r.err());
        assertTrue(java.util.Arrays.equals(config, Files.readAllBytes(dir.resolve("config.yaml"))), "config.yaml changed");

        // what may change: epochs, lr, early stopping, keep_last
        r = train(out, "--resume", "--set", "train.epochs=2", "--set", "train.lr=5e-4", "--set", "train.keep_last=3");
        assertEquals(0, r.code(), r.err());
        assertEquals(3, Files.readAllLines(dir.resolve("metrics.csv")).size());
    }

    @Test
    void resumeRefusesOtherBaseWeights() throws Exception {
        Path tiny = TinyModels.dir("da2-tiny");
        Path pre = TinyModels.dir("da2-tiny-pretrained");
        Path dir = out.resolve("smoke");
        assertEquals(0, train(out, "--set", "train.epochs=1", "--set", "model.weights=" + tiny.resolve("weights.pth"),
                "--set", "model.config=" + tiny.resolve("model.yaml")).code());
        TrainCommandTest.Run r = train(out, "--resume", "--set", "train.epochs=2",
                "--set", "model.weights=" + pre.resolve("weights.pth"), "--set", "model.config=" + tiny.resolve("model.yaml"));
        assertEquals(2, r.code(), r.err());
        String e = oneLine(r);
        assertTrue(e.startsWith("error: " + dir + ": --resume: model.weights differs: the run's adapters were trained on "
                + tiny.resolve("weights.pth") + " (sha256 "), e);
        assertTrue(e.contains("this run's base is " + pre.resolve("weights.pth") + " (sha256 "), e);
    }

    @Test
    void aKillDuringTheFirstCheckpointDoesNotLoop() throws Exception {
        Path dir = out.resolve("smoke");
        // what a kill while the first checkpoint was being written leaves
        Files.createDirectories(dir.resolve("checkpoints/epoch-0001.tmp"));
        Files.writeString(dir.resolve("checkpoints/epoch-0001.tmp/adapter.safetensors"), "partial");
        Files.writeString(dir.resolve("config.yaml"), "partial: true\n");
        TrainCommandTest.Run r = train(out, "--resume", "--set", "train.epochs=1");
        assertEquals(2, r.code(), r.err());
        assertTrue(oneLine(r).contains("no complete checkpoint in this run folder"), r.err());
        assertTrue(r.err().contains("without --resume"), r.err());
        assertEquals("partial: true\n", Files.readString(dir.resolve("config.yaml")), "refused resume wrote config.yaml");
        r = train(out, "--set", "train.epochs=1");
        assertEquals(0, r.code(), r.err());
        assertTrue(Files.exists(dir.resolve("checkpoints/epoch-0001/trainer_state.json")));
        assertFalse(Files.exists(dir.resolve("checkpoints/epoch-0001.tmp")));
    }

    @Test
    void aTargetMatchingNothingIsAnErrorNamingTheConfig() {
        TrainCommandTest.Run r = train(out, "--set", "lora.targets=[re:nomatch]", "--set", "train.epochs=1");
        assertEquals(2, r.code(), r.err());
        assertTrue(oneLine(r).startsWith("error: configs/smoke.yaml: lora.targets: re:nomatch matches no layer"), r.err());
        assertFalse(Files.exists(out.resolve("smoke")), "a refused run left its folder behind");
    }

    @Test
    void absurdSizesAreRefusedBeforeAllocating() {
        TrainCommandTest.Run r = train(out, "--set", "data.scale=null", "--set", "data.input_size=20000",
                "--set", "train.epochs=1");
        assertEquals(2, r.code(), r.err());
        String e = oneLine(r);
        assertTrue(e.startsWith("error: train batch 4 of ") && e.contains("needs about ")
                && e.contains(" of memory (estimate), ") && e.contains("(--no-memory-check to try anyway)"), e);
        assertFalse(Files.exists(out.resolve("smoke")));
    }
}
