package com.loratool.bench;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ResultWritersTest {
    @TempDir
    Path dir;

    static BenchReport tinyReport() {
        BenchSettings a = new BenchSettings("vits", 4, 84, 140, 10, 11, List.of("qkv"), 8);
        BenchSettings b = new BenchSettings("vits", 4, 84, 140, 10, 29, List.of("qkv", "linear"), 8);
        BenchResult ra = new BenchResult(a, 25, 2, 10.0, List.of(9.0, 11.0), 1.1, 3.5, 147456, 500, 502, 900,
                new BenchResult.PeerFigures("pytorch-1.13", 12.5, 0.88, 2.5, 147456, 2));
        BenchResult rb = new BenchResult(b, 25, 2, 30.0, List.of(30.0, 30.0), 29 / 30.0, 0, 700000, 502, 503, 1000, null);
        return new BenchReport(List.of(ra, rb), "test machine, 2 cores", "cpu()", 2, true, 1.5, "2026-11-22T21:00:00Z", 480, 503);
    }

    /** The tiny report's first combination measured on gpu(0) with 2048.4 MiB peak GPU memory. */
    static BenchReport gpuReport() {
        BenchReport cpu = tinyReport();
        BenchResult a = cpu.results().get(0);
        BenchResult g = new BenchResult(a.settings(), a.epochs(), a.measuredEpochs(), a.epochSeconds(), a.epochSecondsAll(),
                a.trainImagesPerS(), a.inferImagesPerS(), a.trainableParams(), a.rssStartMb(), a.rssEndMb(), a.peakRssMb(),
                null, "gpu(0)", 2048.4);
        return new BenchReport(List.of(g), "test machine", "gpu(0)", 2, true, 0.5, "2026-11-22T21:00:00Z", 480, 503);
    }

    /** Several architectures (arch=vits,da3mono-large): each row starts with its model, one column more. */
    @Test
    void severalArchitecturesGetAModelColumn() {
        BenchResult a = tinyReport().results().get(0);
        BenchSettings s = a.settings();
        BenchResult da3 = new BenchResult(new BenchSettings("da3mono-large", s.batch(), s.height(), s.width(), s.scale(),
                s.images(), s.targets(), s.rank()), 25, 2, 20.0, List.of(20.0, 20.0), 0.5, 1.0, 786432, 500, 502, 4400, null);
        String md = ResultWriters.markdown(new BenchReport(List.of(a, da3), "m", "cpu()", 2, true, 1,
                "2026-11-22T21:00:00Z", 480, 503));
        String header = md.lines().filter(l -> l.startsWith("| Model | Epochs")).findFirst().orElseThrow(() -> new AssertionError(md));
        String row = md.lines().filter(l -> l.startsWith("| da3mono-large | 25 ")).findFirst().orElseThrow(() -> new AssertionError(md));
        assertEquals(header.split("\\|").length, row.split("\\|").length, md);
        assertTrue(md.lines().anyMatch(l -> l.startsWith("|---|---:|")), md);
        assertFalse(ResultWriters.markdown(tinyReport()).contains("| Model"), "one architecture: no Model column");
    }

    @Test
    void cpuTablesHaveNoGpuMemoryColumn() {
        BenchReport r = tinyReport();
        assertFalse(ResultWriters.markdown(r).contains("GPU memory"), ResultWriters.markdown(r));
        assertFalse(ResultWriters.csv(r).contains("peak_gpu_mb"));
        assertFalse(ResultWriters.json(r).contains("peak_gpu_mb"));
        assertTrue(ResultWriters.json(r).contains("\"device\" : \"cpu()\""), ResultWriters.json(r));
    }

    @Test
    void gpuResultsGetAGpuMemoryColumn() throws Exception {
        BenchReport r = gpuReport();
        String md = ResultWriters.markdown(r);
        String header = md.lines().filter(l -> l.startsWith("| Epochs")).findFirst().orElseThrow();
        String row = md.lines().filter(l -> l.startsWith("| 25 ")).findFirst().orElseThrow();
        List<String> cols = Arrays.stream(header.split("\\|")).map(String::trim).toList();
        List<String> cells = Arrays.stream(row.split("\\|")).map(String::trim).toList();
        assertEquals(cols.size(), cells.size(), md);
        assertEquals("2048 MiB", cells.get(cols.indexOf("peak GPU memory")), md);
        List<String> csv = ResultWriters.csv(r).lines().toList();
        assertTrue(csv.get(0).contains(",device,peak_gpu_mb,epoch_s_min,"), csv.get(0));
        assertTrue(csv.get(1).contains(",gpu(0),2048.4,"), csv.get(1));
        JsonNode res = new ObjectMapper().readTree(ResultWriters.json(r)).get("results").get(0);
        assertEquals("gpu(0)", res.get("device").asText());
        assertEquals(2048.4, res.get("peak_gpu_mb").asDouble(), 1e-9);
    }

    @Test
    void efficiencyAndSpreadColumnsWhenMeasured() throws Exception {
        BenchReport cpu = tinyReport();
        BenchResult a = cpu.results().get(0).withEfficiency(new BenchResult.Efficiency(3, 100, 50, 154));
        BenchReport r = new BenchReport(List.of(a), "m", "cpu()", 2, true, 1, "2026-11-22T21:00:00Z", 480, 503);
        String md = ResultWriters.markdown(r);
        String header = md.lines().filter(l -> l.startsWith("| Epochs")).findFirst().orElseThrow();
        String row = md.lines().filter(l -> l.startsWith("| 25 ")).findFirst().orElseThrow();
        List<String> cols = Arrays.stream(header.split("\\|")).map(String::trim).toList();
        List<String> cells = Arrays.stream(row.split("\\|")).map(String::trim).toList();
        assertEquals(cols.size(), cells.size(), md);
        assertEquals("10.00 [9.00..11.00]", cells.get(cols.indexOf("s/epoch [min..max]")), md);
        // 100 GFLOP per image at 1.1 img/s = 110 GFLOP/s = 71 % of 154; inference 50 x 3.5 = 175 GFLOP/s
        assertEquals("110.0", cells.get(cols.indexOf("train GFLOP/s")), md);
        assertEquals("71 %", cells.get(cols.indexOf("train % of peak")), md);
        assertEquals("175.0", cells.get(cols.indexOf("infer GFLOP/s")), md);
        JsonNode res = new ObjectMapper().readTree(ResultWriters.json(r)).get("results").get(0);
        assertEquals(3, res.get("warmup_epochs").asInt());
        assertEquals(71.4, res.get("train_pct_of_peak").asDouble(), 1e-9);
        assertEquals(9.0, res.get("epoch_s_min").asDouble(), 1e-9);
        assertEquals(11.0, res.get("epoch_s_max").asDouble(), 1e-9);
    }

    @Test
    void writesAllFourFiles() throws Exception {
        ResultWriters.writeAll(tinyReport(), dir);
        for (String f : ResultWriters.FILES) {
            assertTrue(Files.size(dir.resolve(f)) > 0, f);
        }
        try (var s = Files.list(dir)) {
            assertEquals(4, s.count(), "no temp files left behind");
        }
        byte[] png = Files.readAllBytes(dir.resolve("results.png"));
        assertArrayEquals(new byte[] {(byte) 0x89, 'P', 'N', 'G'}, Arrays.copyOf(png, 4));
    }

    @Test
    void csvHasOneRowPerCombinationWithProjectedTime() throws Exception {
        ResultWriters.writeAll(tinyReport(), dir);
        List<String> lines = Files.readAllLines(dir.resolve("results.csv"));
        assertEquals(3, lines.size());
        assertEquals(String.join(",", ResultWriters.CSV_HEADER) + "," + String.join(",", ResultWriters.EFFICIENCY_COLUMNS),
                lines.get(0));
        // 10 s/epoch * 25 epochs = 250 s, projected; peer 12.5 s/epoch -> 1.25x; infer 3.5 / 2.5 = 1.4x;
        // epochs 9 and 11 s: min 9, max 11; no efficiency figures in this report
        assertEquals("vits,25,4,84,140,10,11,qkv,8,147456,2,10.0000,250.00,true,1.100,3.500,900.0,500.0,502.0,12.5000,2.500,1.250,1.400,cpu()"
                + ",9.0000,11.0000,,,,,,,,", lines.get(1));
        assertTrue(lines.get(2).contains(",\"qkv,linear\",8,700000,2,30.0000,750.00,true,"), lines.get(2));
        assertTrue(lines.get(2).contains(",,,,cpu(),"), lines.get(2)); // no peer: empty cells
    }

    @Test
    void jsonIsValidAndHasNoNaN() throws Exception {
        ResultWriters.writeAll(tinyReport(), dir);
        JsonNode root = new ObjectMapper().readTree(dir.resolve("results.json").toFile());
        assertEquals(23.0, root.get("rss_growth_mb").asDouble(), 1e-9);
        assertEquals(2, root.get("results").size());
        JsonNode r0 = root.get("results").get(0);
        assertEquals(250.0, r0.get("time_s").asDouble(), 1e-9);
        assertTrue(r0.get("time_projected").asBoolean());
        assertEquals(1.25, r0.get("train_speedup_vs_peer").asDouble(), 1e-9);
        assertEquals("qkv", r0.get("targets").get(0).asText());
        assertNull(root.get("results").get(1).get("peer"));
    }

    @Test
    void markdownIsTheStudyTable() throws Exception {
        ResultWriters.writeAll(tinyReport(), dir);
        String md = Files.readString(dir.resolve("results.md"));
        assertTrue(md.contains("| Epochs | Batch | Image size | Training images | Layers | Time |"), md);
        assertTrue(md.contains("| 25 | 4 | 84x140 | 11 | qkv | 4 min 10 s (projected) |"), md);
        assertTrue(md.contains("| 25 | 4 | 84x140 | 29 | qkv + linear | 12 min 30 s (projected) |"), md);
        assertTrue(md.contains("1.25x"), md);
        assertFalse(md.contains("NaN"), md);
        // 480 before, 503 after the last, 502 after the first: +1 MiB across the others
        assertTrue(md.contains("480 MiB before the first combination, 503 MiB after the last (+23 MiB); 502 MiB after the first, so +1 MiB"), md);
    }

    @Test
    void durations() {
        assertEquals("9.5 s", ResultWriters.duration(9.5));
        assertEquals("1 min 15 s", ResultWriters.duration(75));
        assertEquals("1 h 2 min", ResultWriters.duration(3725));
    }
}
