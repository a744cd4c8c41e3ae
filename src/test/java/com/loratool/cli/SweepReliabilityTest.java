package com.loratool.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.loratool.config.ConfigLoader;
import com.loratool.io.FolderLock;
import com.loratool.io.Json;
import com.loratool.io.Signals;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 27 through {@code lora sweep}: a SIGTERM stops the sweep at a safe point (no cell recorded as
 * failed, no report, how to continue) and the rerun trains what is left; a diverging cell; the
 * evaluator's progress bars under -q; --retention on the training data; the lock refusal's advice.
 * Small sweeps: the pretrained tiny fixture on data-samples/ at 84x140, 2 folds, 2 epochs.
 */
class SweepReliabilityTest {
    @TempDir
    Path tmp;

    @AfterEach
    void forgetSignals() {
        Signals.reset(System.err);
    }

    private static List<String> args(Path out, String grid, String... more) {
        List<String> a = new ArrayList<>(SweepCommandTest.base(out, grid, "2", "--set", "train.epochs=2"));
        a.addAll(List.of(more));
        return a;
    }

    private static TrainCommandTest.Run run(List<String> args) {
        return TrainCommandTest.run(args.toArray(new String[0]));
    }

    private static List<JsonNode> cells(Path out) throws Exception {
        List<JsonNode> out2 = new ArrayList<>();
        Path dir = out.resolve("cells");
        if (!Files.isDirectory(dir)) {
            return out2;
        }
        try (Stream<Path> s = Files.list(dir)) {
            for (Path p : s.sorted().toList()) {
                out2.add(Json.JSON.readTree(p.toFile()));
            }
        }
        return out2;
    }

    @Test
    void aSigtermStopsTheSweepAtASafePointAndTheRerunTrainsTheRest() throws Exception {
        Path out = tmp.resolve("sweep");
        List<String> args = args(out, "lora.r=4,8");
        ByteArrayOutputStream signalLines = new ByteArrayOutputStream();
        Signals.reset(new PrintStream(signalLines, true));
        // SIGTERM as soon as the first cell is finished (the second one is then being set up or trained)
        Thread sender = new Thread(() -> {
            long end = System.nanoTime() + 300_000_000_000L;
            while (!Files.exists(out.resolve("cells/c01-f1.json")) && System.nanoTime() < end) {
                try {
                    Thread.sleep(2);
                } catch (InterruptedException e) {
                    return;
                }
            }
            Signals.send("TERM");
        }, "sigterm");
        sender.setDaemon(true);
        sender.start();
        TrainCommandTest.Run r = run(args);
        sender.join(10_000);

        assertEquals(143, r.code(), r.err());
        String line = r.err().strip();
        assertEquals(1, line.lines().count(), line);
        assertTrue(line.startsWith("interrupted (SIGTERM) "), line);
        assertTrue(line.contains("continue with: lora sweep ") && line.contains("--grid lora.r=4,8")
                && line.contains("--output " + out), line);
        assertTrue(signalLines.toString().contains("stopping at the next safe point"), signalLines.toString());
        assertEquals(List.of(), Signals.halts(), "the sweep stopped at a safe point, it was not halted");
        // no cell is an interrupt's "failure", no report or best.yaml from the cells that happened to finish
        List<JsonNode> kept = cells(out);
        int done = kept.size();
        assertTrue(done >= 1 && done < 4, "cells kept: " + done);
        for (JsonNode c : kept) {
            assertEquals("done", c.path("status").asText(), c.toString());
        }
        assertTrue(line.contains(done + " of 4 cells done"), line);
        for (String f : List.of("best.yaml", "results.md", "results.csv", "results.json", "sweep.png", ".lock")) {
            assertFalse(Files.exists(out.resolve(f)), f);
        }
        try (Stream<Path> s = Files.walk(out)) {
            assertEquals(List.of(), s.filter(p -> p.getFileName().toString().equals(".lock")
                    || p.getFileName().toString().endsWith(".tmp")).toList());
        }

        // a cell an older version recorded as failed by an interrupt is not a result: trained on the rerun
        Files.writeString(out.resolve("cells/c02-f2.json"), "{\"combination\": 1, \"fold\": 1, \"overrides\":"
                + " [\"lora.r=8\"], \"status\": \"failed\", \"reason\": \"interrupted (SIGTERM) after epoch 0 of 2\","
                + " \"images\": 0, \"absolute\": false, \"epochs\": 0, \"train_seconds\": 0, \"epoch_seconds\": 0,"
                + " \"eval_seconds\": 0}\n");

        // the lock of a running sweep: the refusal names only what lora sweep has
        Signals.reset(System.err);
        try (FolderLock held = FolderLock.acquire(out, "lora sweep")) {
            TrainCommandTest.Run locked = run(args);
            assertEquals(2, locked.code(), locked.err());
            assertTrue(locked.err().contains("in use by another lora sweep"), locked.err());
            assertFalse(locked.err().contains("--force-unlock"), locked.err());
            assertEquals(1, locked.err().strip().lines().count(), locked.err());
        }

        TrainCommandTest.Run again = run(args);
        assertEquals(0, again.code(), again.err());
        int trained = 4 - done;
        assertTrue(Files.readString(out.resolve("results.md")).contains("for " + trained + " cell"
                + (trained == 1 ? "" : "s") + " trained in this run"), Files.readString(out.resolve("results.md")));
        List<String> csv = Files.readAllLines(out.resolve("results.csv"));
        assertEquals(5, csv.size(), csv.toString());
        for (String row : csv.subList(1, 5)) {
            assertTrue(row.contains(",done,"), row);
        }
        for (JsonNode c : cells(out)) {
            assertEquals("done", c.path("status").asText(), c.toString());
        }
        ConfigLoader.load(out.resolve("best.yaml"), List.of());
    }

    @Test
    void aDivergingCellIsRecordedAsFailedAndLeavesTheOtherCellsAsTheyWouldBe() throws Exception {
        // combination 1 diverges (non-finite gradients in its first epoch); combination 2 is trained after it
        Path out = tmp.resolve("diverging");
        TrainCommandTest.Run r = run(args(out, "lora.alpha=10000; train.lr=10 + lora.alpha=8"));
        assertEquals(0, r.code(), r.err());
        List<JsonNode> cells = cells(out);
        assertEquals(4, cells.size());
        for (JsonNode c : cells.subList(0, 2)) {
            assertEquals("failed", c.path("status").asText(), c.toString());
            // every gradient value is finite here, their squares' sum is not: said so, no tensor named
            assertTrue(c.path("reason").asText().contains(": gradient norm is not finite (")
                    && c.path("reason").asText().contains("lower train.lr or set train.clip_grad_norm"), c.toString());
        }
        String md = Files.readString(out.resolve("results.md"));
        assertTrue(md.contains("| lora.alpha=10000, train.lr=10 | 0 done, **2 failed**: "), md);
        assertEquals(8.0, ConfigLoader.load(out.resolve("best.yaml"), List.of()).lora.alpha());
        List<String> csv = Files.readAllLines(out.resolve("results.csv"));
        assertTrue(csv.get(1).contains(",failed,") && csv.get(2).contains(",failed,"), csv.toString());

        // the healthy combination's cells are those of a sweep without the diverging one
        Path alone = tmp.resolve("alone");
        assertEquals(0, run(args(alone, "lora.alpha=8")).code());
        List<JsonNode> ref = cells(alone);
        for (int f = 0; f < 2; f++) {
            assertEquals(ref.get(f).path("lora"), cells.get(2 + f).path("lora"), "fold " + (f + 1));
            assertEquals(ref.get(f).path("base"), cells.get(2 + f).path("base"), "fold " + (f + 1));
        }

        // a divergence is the cell's own result: the rerun keeps it and trains nothing
        TrainCommandTest.Run again = run(args(out, "lora.alpha=10000; train.lr=10 + lora.alpha=8"));
        assertEquals(0, again.code(), again.err());
        assertTrue(Files.readString(out.resolve("results.md")).contains("for 0 cells trained in this run"));
    }

    @Test
    void aQuietSweepPrintsOneLinePerCellAndNoProgressBars() throws Exception {
        Path out = tmp.resolve("quiet");
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        PrintStream before = System.err;
        TrainCommandTest.Run r;
        System.setErr(new PrintStream(err, true));
        try {
            r = run(args(out, "lora.r=4"));
        } finally {
            System.setErr(before);
        }
        assertEquals(0, r.code(), r.err());
        List<String> lines = err.toString().lines().filter(l -> !l.isBlank()).toList();
        assertEquals(2, lines.stream().filter(l -> l.startsWith("sweep c01-f")).count(), err.toString());
        assertFalse(err.toString().contains("eval "), "an evaluator's progress bar under -q: " + err);
        assertFalse(err.toString().contains("%"), err.toString());
    }

    @Test
    void retentionOnTheTrainingDataIsRefused() throws Exception {
        // the same folder (also through a symlink), and another folder holding a copy of one training image
        Path link = Files.createSymbolicLink(tmp.resolve("link"), Path.of("data-samples").toAbsolutePath());
        Path copy = tmp.resolve("copy");
        Files.createDirectories(copy.resolve("images"));
        Files.createDirectories(copy.resolve("depth"));
        String stem = "21-12-03-18-50-00_Zivid_acquisition";
        Files.copy(Path.of("data-samples/images/" + stem + "_color.png"), copy.resolve("images/x_color.png"));
        Files.copy(Path.of("data-samples/depth/" + stem + "_rawDepth.npy"), copy.resolve("depth/x_rawDepth.npy"));
        for (Path retention : List.of(Path.of("data-samples"), link, copy)) {
            Path out = tmp.resolve("ret");
            TrainCommandTest.Run r = run(args(out, "lora.r=4", "--retention", retention.toString()));
            assertEquals(2, r.code(), retention + ": " + r.err());
            assertEquals(1, r.err().strip().lines().count(), r.err());
            assertTrue(r.err().startsWith("error: ") && r.err().contains("--retention")
                    && r.err().contains("training"), r.err());
            assertFalse(Files.exists(out), "written for " + retention);
        }
    }
}
