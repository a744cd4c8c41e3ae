package com.loratool.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.loratool.config.ConfigLoader;
import com.loratool.config.RunConfig;
import com.loratool.config.TrainSection;
import com.loratool.io.Npy;
import com.loratool.io.NpyArray;
import com.loratool.train.TinyModels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code lora sweep} end to end on the small pretrained fixture and data-samples/ (12 pairs): 2
 * combinations x 3 folds, 3 epochs at 84x140, then a rerun after a simulated kill, a rerun with
 * other arguments, a failing cell, and the bad-input refusals.
 */
class SweepCommandTest {
    @TempDir
    Path tmp;

    static List<String> base(Path output, String grid, String folds, String... more) {
        Path fixture = TinyModels.dir("da2-tiny-pretrained");
        List<String> a = new ArrayList<>(List.of("sweep", "--config", "configs/smoke-pretrained.yaml", "--quiet",
                "--set", "model.weights=" + fixture.resolve("weights.pth"),
                "--set", "model.config=" + fixture.resolve("model.yaml"),
                "--set", "train.epochs=3", "--set", "data.scale=10", "--set", "train.lr=3e-3", "--set", "train.keep_last=1",
                "--grid", grid, "--folds", folds, "--output", output.toString()));
        a.addAll(Arrays.asList(more));
        return a;
    }

    private static TrainCommandTest.Run run(List<String> args) {
        return TrainCommandTest.run(args.toArray(new String[0]));
    }

    @Test
    void adaptedCombinationsRankAboveTheFrozenBaseAndARerunKeepsFinishedCells() throws Exception {
        Path out = tmp.resolve("sweep");
        List<String> args = base(out, "lora.r=4,8", "3");
        TrainCommandTest.Run r = run(args);
        assertEquals(0, r.code(), r.err());
        for (String f : List.of("results.md", "results.csv", "results.json", "sweep.png", "best.yaml", "sweep.json",
                "cells/c01-f1.json", "cells/c02-f3.json", "runs/c01-f1/metrics.csv", "runs/c02-f3/split.json")) {
            assertTrue(Files.exists(out.resolve(f)), f);
        }
        List<String> table = Files.readAllLines(out.resolve("results.md")).stream().filter(l -> l.startsWith("| "))
                .toList();
        System.out.println(String.join("\n", table));
        // header, then the two combinations ranked 1 and 2, then the frozen base
        assertEquals(4, table.size(), table.toString());
        assertTrue(table.get(1).startsWith("| 1 | lora.r="), table.get(1));
        assertTrue(table.get(2).startsWith("| 2 | lora.r="), table.get(2));
        assertTrue(table.get(3).contains("frozen base"), table.get(3));
        assertEquals(1 + 6, Files.readAllLines(out.resolve("results.csv")).size());
        // the winner, fold-free: the base config's own split and the winning rank
        RunConfig best = ConfigLoader.load(out.resolve("best.yaml"), List.of());
        assertEquals(0.25, best.data.valFraction());
        assertTrue(table.get(1).contains("lora.r=" + best.lora.r()), table.get(1) + " vs r " + best.lora.r());
        assertEquals(3, best.train.epochs());

        // a kill during the last cell: its result file never written, its run folder half there
        FileTime firstCell = Files.getLastModifiedTime(out.resolve("runs/c01-f1/metrics.csv"));
        String firstJson = Files.readString(out.resolve("cells/c01-f1.json"));
        Files.delete(out.resolve("cells/c02-f3.json"));
        Files.delete(out.resolve("results.md"));
        TrainCommandTest.Run again = run(args);
        assertEquals(0, again.code(), again.err());
        assertEquals(firstCell, Files.getLastModifiedTime(out.resolve("runs/c01-f1/metrics.csv")), "c01-f1 retrained");
        assertEquals(firstJson, Files.readString(out.resolve("cells/c01-f1.json")));
        assertTrue(Files.exists(out.resolve("cells/c02-f3.json")));
        assertTrue(Files.readString(out.resolve("results.md")).contains("for 1 cell trained in this run"),
                Files.readString(out.resolve("results.md")));

        // other arguments: refused naming the difference, nothing changed
        FileTime md = Files.getLastModifiedTime(out.resolve("results.md"));
        List<String> other = base(out, "lora.r=4,8", "2");
        TrainCommandTest.Run refused = run(other);
        assertEquals(2, refused.code());
        assertTrue(refused.err().contains("folds was 3, now 2"), refused.err());
        assertEquals(1, refused.err().strip().lines().count(), refused.err());
        assertEquals(md, Files.getLastModifiedTime(out.resolve("results.md")));
    }

    @Test
    void aFailingCellIsRecordedAndTheSweepGoesOn() throws Exception {
        Path out = tmp.resolve("failing");
        TrainCommandTest.Run r = run(base(out, "train.loss=ssi,metric_silog", "2", "--set", "train.epochs=1"));
        assertEquals(0, r.code(), r.err());
        String md = Files.readString(out.resolve("results.md"));
        assertTrue(md.contains("| train.loss=metric_silog | 0 done, **2 failed**: "), md);
        assertTrue(md.contains("is a metric-depth loss"), md); // the cell's own error, found when its run starts
        assertTrue(Files.readString(out.resolve("cells/c02-f1.json")).contains("\"status\" : \"failed\""));
        assertEquals(TrainSection.Loss.ssi, ConfigLoader.load(out.resolve("best.yaml"), List.of()).train.loss());
    }

    @Test
    void badInputIsOneLineAndWritesNothing() throws Exception {
        Path noDepth = tmp.resolve("no-depth");
        Files.createDirectories(noDepth.resolve("images"));
        Files.createDirectories(noDepth.resolve("depth"));
        String stem = "21-12-03-18-50-00_Zivid_acquisition";
        Files.copy(Path.of("data-samples/images/" + stem + "_color.png"), noDepth.resolve("images/" + stem + "_color.png"));
        NpyArray z = Npy.read(Path.of("data-samples/depth/" + stem + "_rawDepth.npy"));
        Npy.write(noDepth.resolve("depth/" + stem + "_rawDepth.npy"), z.shape(), new float[z.data().length]);
        String many = IntStream.rangeClosed(1, 67).mapToObj(Integer::toString).collect(Collectors.joining(","));
        Object[][] cases = {
            {"", "3", new String[0], "--grid: empty"},
            {"lora.rr=4,8", "3", new String[0], "--grid: axis lora.rr"},
            {"lora.r=4", "0", new String[0], "--folds 0: must be >= 1"},
            {"lora.r=4", "13", new String[0], "more folds than the 12 image/depth pairs"},
            {"lora.r=" + many, "3", new String[0], "67 combinations x 3 folds = 201 cells"},
            {"lora.r=4", "3", new String[] {"--retention", noDepth.toString()}, "no pair has valid depth"},
        };
        for (Object[] c : cases) {
            Path out = tmp.resolve("bad");
            TrainCommandTest.Run r = run(base(out, (String) c[0], (String) c[1], (String[]) c[2]));
            assertEquals(2, r.code(), r.err());
            assertTrue(r.err().contains((String) c[3]), c[3] + " not in: " + r.err());
            assertEquals(1, r.err().strip().lines().count(), r.err());
            assertTrue(r.err().startsWith("error: "), r.err());
            assertFalse(Files.exists(out), "written for " + c[3]);
        }
    }
}
