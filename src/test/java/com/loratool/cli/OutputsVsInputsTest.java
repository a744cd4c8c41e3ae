package com.loratool.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.loratool.data.Cv;
import com.loratool.io.Checksums;
import com.loratool.io.HostTensor;
import com.loratool.io.Npy;
import com.loratool.lora.AdapterCheckpoint;
import com.loratool.lora.AdapterSet;
import com.loratool.lora.LoraPair;
import com.loratool.lora.LoraScaling;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 27, class 1: no output may destroy an input, whether the input is named on the command line,
 * found through a run folder or given with --align-to and the like; two inputs of one batch never map to
 * one output name; compare labels are unique.
 */
class OutputsVsInputsTest {
    static final Path FIXTURE = ExportImportCommandTest.FIXTURE;
    static final Path WEIGHTS = ExportImportCommandTest.WEIGHTS;
    static final Path SAMPLES = Path.of("data-samples");
    static final String STEM = "21-12-03-18-50-00_Zivid_acquisition";

    @TempDir
    Path tmp;

    @BeforeAll
    static void opencv() {
        Cv.load();
    }

    private static DataCommandTest.Run run(String... args) {
        return DataCommandTest.run(args);
    }

    /** One line on stderr, starting with "error: ", exit 2. */
    private static void refused(DataCommandTest.Run r, String... words) {
        assertEquals(Main.EXIT_USER_ERROR, r.rc(), r.out() + r.err());
        String e = r.err().strip();
        assertEquals(1, e.lines().count(), e);
        assertTrue(e.startsWith("error: "), e);
        for (String w : words) {
            assertTrue(e.contains(w), "'" + w + "' in: " + e);
        }
    }

    /** Every file under {@code dir} with its bytes' SHA-256 (to show that nothing changed or appeared). */
    private static Map<String, String> snapshot(Path dir) throws IOException {
        Map<String, String> out = new TreeMap<>();
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.filter(Files::isRegularFile).toList()) {
                out.put(dir.relativize(p).toString(), Checksums.sha256(p));
            }
        }
        return out;
    }

    private Path dataSet(int pairs) throws IOException {
        Path img = Files.createDirectories(tmp.resolve("data/images"));
        Path dep = Files.createDirectories(tmp.resolve("data/depth"));
        try (Stream<Path> s = Files.list(SAMPLES.resolve("images"))) {
            for (Path p : s.sorted().limit(pairs).toList()) {
                String stem = p.getFileName().toString().replace("_color.png", "");
                Files.copy(p, img.resolve(p.getFileName()));
                Files.copy(SAMPLES.resolve("depth/" + stem + "_rawDepth.npy"), dep.resolve(stem + "_rawDepth.npy"));
            }
        }
        return tmp.resolve("data");
    }

    /** A checkpoint on the tiny model like {@link ExportImportCommandTest#checkpoint}, its adapters drawn with {@code seed}. */
    static Path checkpoint(Path ck, Path weights, String sha, long seed) {
        Random r = new Random(seed);
        LinkedHashMap<String, LoraPair> m = new LinkedHashMap<>();
        m.put("pretrained.blocks.0.attn.qkv", new LoraPair(ExportImportCommandTest.rand(r, 4, 48),
                ExportImportCommandTest.rand(r, 144, 4)));
        m.put("depth_head.scratch.refinenet1.resConfUnit1.conv1",
                new LoraPair(ExportImportCommandTest.rand(r, 4, 16, 3, 3), ExportImportCommandTest.rand(r, 16, 4, 1, 1)));
        AdapterCheckpoint.save(ck, new AdapterSet(m), new LoraScaling(4, 8, false), weights, sha, null);
        return ck;
    }

    @Test
    void intrinsicsJsonOntoItsOwnInputCloudIsRefused() throws Exception {
        Path cloud = Files.copy(SAMPLES.resolve("depth/" + STEM + "_rawDepth.npy"), tmp.resolve("cloud.npy"));
        String before = Checksums.sha256(cloud);
        refused(run("data", "intrinsics", "--data", cloud.toString(), "--json", cloud.toString()), "--json", "--data",
                cloud.toString());
        assertEquals(before, Checksums.sha256(cloud));
        // a folder of clouds: the JSON may not land among them
        Path data = dataSet(1);
        Map<String, String> was = snapshot(data);
        refused(run("data", "intrinsics", "--data", data.toString(), "--json",
                data.resolve("depth/k.json").toString()), "--json", "depth");
        assertEquals(was, snapshot(data));
    }

    @Test
    void previewIntoTheDataSetIsRefused() throws Exception {
        Path data = dataSet(2);
        Map<String, String> was = snapshot(data);
        refused(run("data", "preview", "--data", data.toString(), "--output", data.resolve("images").toString(),
                "--input-size", "70"), "--output", "images");
        refused(run("data", "preview", "--data", data.toString(), "--output", data.toString(), "--input-size", "70"),
                "--output");
        assertEquals(was, snapshot(data));
        // beside the images and depth folders: allowed
        DataCommandTest.Run ok = run("data", "preview", "--data", data.toString(), "--output",
                data.resolve("preview").toString(), "--input-size", "70");
        assertEquals(0, ok.rc(), ok.err());
    }

    @Test
    void evalCompletionCsvOntoADepthFileIsRefused() throws Exception {
        Path data = dataSet(1);
        Path depth;
        try (Stream<Path> s = Files.list(data.resolve("depth"))) {
            depth = s.findFirst().orElseThrow();
        }
        Map<String, String> was = snapshot(data);
        refused(run("eval-completion", "--data", data.toString(), "--weights", WEIGHTS.toString(), "--model-config",
                FIXTURE.resolve("model.yaml").toString(), "--input-size", "70", "--threads", "1", "--output",
                depth.toString()), "--output", depth.getFileName().toString());
        assertEquals(was, snapshot(data));
        // the model's files are inputs too
        Path w = Files.copy(WEIGHTS, tmp.resolve("w.pth"));
        String sha = Checksums.sha256(w);
        refused(run("eval-completion", "--data", data.toString(), "--weights", w.toString(), "--model-config",
                FIXTURE.resolve("model.yaml").toString(), "--input-size", "70", "--output", w.toString()), "--weights");
        assertEquals(sha, Checksums.sha256(w));
    }

    @Test
    void predictAlignedToASensorDepthInTheOutputFolderIsRefused() throws Exception {
        Path depthDir = Files.createDirectories(tmp.resolve("depth"));
        Path sensor = Files.copy(SAMPLES.resolve("depth/" + STEM + "_rawDepth.npy"), depthDir.resolve("x.npy"));
        Path image = Files.copy(SAMPLES.resolve("images/" + STEM + "_color.png"), tmp.resolve("x.png"));
        Map<String, String> was = snapshot(depthDir);
        refused(run("predict", "--weights", WEIGHTS.toString(), "--model-config", FIXTURE.resolve("model.yaml").toString(),
                "--input", image.toString(), "--output", depthDir.toString(), "--input-size", "70", "--align-to",
                sensor.toString()), "--align-to", "x.npy");
        assertEquals(was, snapshot(depthDir));
        // --intrinsics FILE.json and --intrinsics-from FILE.npy are inputs as well
        Path out = Files.createDirectories(tmp.resolve("out"));
        Path xyz = Files.copy(sensor, out.resolve("x.npy")); // predict writes x.npy
        String before = Checksums.sha256(xyz);
        refused(run("predict", "--weights", WEIGHTS.toString(), "--model-config", FIXTURE.resolve("model.yaml").toString(),
                "--input", image.toString(), "--output", out.toString(), "--input-size", "70", "--align-to",
                sensor.toString(), "--point-cloud", "--intrinsics-from", xyz.toString()), "--intrinsics-from");
        assertEquals(before, Checksums.sha256(xyz));
    }

    @Test
    void mergedExportOntoBaseWeightsFoundThroughTheRunFolderIsRefused() throws Exception {
        // the checkpoint records its base weights relative to where the run started (tmp/proj), not to here
        Path proj = Files.createDirectories(tmp.resolve("proj"));
        Path base = Files.copy(WEIGHTS, Files.createDirectories(proj.resolve("base-27")).resolve("base.pth"));
        String sha = Checksums.sha256(base);
        Path ck = checkpoint(proj.resolve("runs/r/best"), Path.of("base-27/base.pth"), sha, 5);
        assertFalse(Files.exists(Path.of("base-27/base.pth")), "the recorded path must not resolve from here");
        for (String format : List.of("merged", "onnx")) {
            refused(run("export", "--checkpoint", ck.toString(), "--format", format, "--output", base.toString()),
                    "--output", "base weights");
            assertEquals(sha, Checksums.sha256(base));
        }
        // and the checkpoint still loads on them
        DataCommandTest.Run ok = run("export", "--checkpoint", ck.toString(), "--format", "merged", "--output",
                tmp.resolve("m.safetensors").toString());
        assertEquals(0, ok.rc(), ok.err());
    }

    @Test
    void predictOnAFolderWithTwoImagesOfOneStemIsRefused() throws Exception {
        Path in = Files.createDirectories(tmp.resolve("images"));
        Files.copy(SAMPLES.resolve("images/" + STEM + "_color.png"), in.resolve("a.png"));
        Files.copy(SAMPLES.resolve("images/" + STEM + "_color.png"), in.resolve("a.jpg"));
        Files.copy(SAMPLES.resolve("images/" + STEM + "_color.png"), in.resolve("b.png"));
        Path out = tmp.resolve("out");
        refused(run("predict", "--weights", WEIGHTS.toString(), "--model-config", FIXTURE.resolve("model.yaml").toString(),
                "--input", in.toString(), "--output", out.toString(), "--input-size", "70"), "a.jpg", "a.png", "a.npy");
        assertFalse(Files.exists(out), "nothing written");
    }

    @Test
    void predictOutputsOfOneImageMayNotBeAnotherImagesOutputs() throws Exception {
        // a.png with --align-to writes a_depth.npy; the image a_depth.png writes a_depth.npy too
        Path in = Files.createDirectories(tmp.resolve("images"));
        Files.copy(SAMPLES.resolve("images/" + STEM + "_color.png"), in.resolve("a.png"));
        Files.copy(SAMPLES.resolve("images/" + STEM + "_color.png"), in.resolve("a_depth.png"));
        Path depth = Files.copy(SAMPLES.resolve("depth/" + STEM + "_rawDepth.npy"), tmp.resolve("sensor.npy"));
        Path out = tmp.resolve("out");
        refused(run("predict", "--weights", WEIGHTS.toString(), "--model-config", FIXTURE.resolve("model.yaml").toString(),
                "--input", in.toString(), "--output", out.toString(), "--input-size", "70", "--align-to",
                depth.toString()), "a_depth.npy", "a.png", "a_depth.png");
        assertFalse(Files.exists(out), "nothing written");
    }

    @Test
    void predictAlignedToADepthOfTheWrongSizeWritesNothingForThatImage() throws Exception {
        Path image = Files.copy(SAMPLES.resolve("images/" + STEM + "_color.png"), tmp.resolve("x.png"));
        Path sensor = tmp.resolve("x.npy");
        Npy.write(sensor, new long[] {10, 20}, new float[200]);
        Path out = tmp.resolve("out");
        refused(run("predict", "--weights", WEIGHTS.toString(), "--model-config", FIXTURE.resolve("model.yaml").toString(),
                "--input", image.toString(), "--output", out.toString(), "--input-size", "70", "--align-to",
                sensor.toString()), "x.npy", "10x20");
        assertFalse(Files.exists(out.resolve("x.npy")), "no prediction written before the refusal");
        assertFalse(Files.exists(out.resolve("x.png")), "no picture written before the refusal");
    }

    @Test
    void evalCompareLabelsAreUniqueAndOneCheckpointTwiceIsRefused() throws Exception {
        Path data = EvalCommandTest.data(tmp);
        String sha = Checksums.sha256(WEIGHTS);
        Path first = checkpoint(tmp.resolve("first/best"), WEIGHTS, sha, 5);
        Path a = checkpoint(tmp.resolve("runA/smoke/best"), WEIGHTS, sha, 6);
        Path b = checkpoint(tmp.resolve("runB/smoke/best"), WEIGHTS, sha, 7);
        Path out = tmp.resolve("eval");
        String[] common = {"eval", "--checkpoint", first.toString(), "--data", data.toString(), "--split", "all",
            "--model-config", FIXTURE.resolve("model.yaml").toString(), "--input-size", "98", "--no-pictures",
            "--cache-dir", tmp.resolve("cache").toString(), "--threads", "1", "--output", out.toString(), "--compare"};
        DataCommandTest.Run r = run(concat(common, a.toString(), b.toString()));
        assertEquals(0, r.rc(), r.err());
        List<String> rows = Files.readAllLines(out.resolve("compare.csv"));
        assertEquals(5, rows.size(), rows.toString()); // header, original, three checkpoints
        List<String> names = rows.stream().skip(1).map(l -> l.substring(0, l.indexOf(','))).toList();
        assertEquals(names.size(), names.stream().distinct().count(), names.toString());
        assertTrue(names.get(2).contains("runA") && names.get(3).contains("runB"), names.toString());
        assertFalse(rows.get(2).substring(rows.get(2).indexOf(',')).equals(rows.get(3).substring(rows.get(3).indexOf(','))),
                "different adapters, different rows: " + rows);
        assertTrue(Files.exists(out.resolve("compare").resolve(names.get(2)).resolve("report.md")), names.toString());
        assertTrue(Files.exists(out.resolve("compare").resolve(names.get(3)).resolve("report.md")), names.toString());
        // one checkpoint twice: refused before any work
        Path twice = tmp.resolve("eval-twice");
        common[common.length - 2] = twice.toString();
        refused(run(concat(common, a.toString(), tmp.resolve("runA/smoke/../smoke/best").toString())), "twice", "runA");
        assertFalse(Files.exists(twice));
    }

    /** Class 4: a checkpoint on other base weights is compared with its own original, in its own row. */
    @Test
    void evalCompareGivesEachBaseItsOwnOriginalRow() throws Exception {
        Path data = EvalCommandTest.data(tmp);
        String sha = Checksums.sha256(WEIGHTS);
        Path first = checkpoint(tmp.resolve("first/best"), WEIGHTS, sha, 5);
        Path a = checkpoint(tmp.resolve("runA/smoke/best"), WEIGHTS, sha, 6);
        Path other = tmp.resolve("other.safetensors");
        Map<String, HostTensor> sd = new LinkedHashMap<>(com.loratool.model.weights.StateDicts.read(WEIGHTS));
        String key = sd.keySet().stream().filter(k -> k.startsWith("depth_head.scratch.output_conv2") && k.endsWith(".bias"))
                .findFirst().orElseThrow();
        float[] v = sd.get(key).data().clone();
        v[0] += 0.5f;
        sd.put(key, new HostTensor(sd.get(key).shape(), v));
        com.loratool.io.Safetensors.write(other, new LinkedHashMap<>(sd), Map.of("format", "pt"));
        Path c = checkpoint(tmp.resolve("runC/best"), other, Checksums.sha256(other), 6);
        Path out2 = tmp.resolve("eval2");
        DataCommandTest.Run r = run("eval", "--checkpoint", first.toString(), "--data", data.toString(), "--split", "all",
                "--model-config", FIXTURE.resolve("model.yaml").toString(), "--input-size", "98", "--no-pictures",
                "--cache-dir", tmp.resolve("cache").toString(), "--threads", "1", "--output", out2.toString(),
                "--compare", a.toString(), c.toString());
        assertEquals(0, r.rc(), r.err());
        List<String> rows = Files.readAllLines(out2.resolve("compare.csv"));
        assertEquals(6, rows.size(), rows.toString()); // header, two originals, three checkpoints
        List<String> originals = rows.stream().filter(l -> l.startsWith("original")).toList();
        assertEquals(2, originals.size(), rows.toString());
        assertTrue(originals.get(1).contains("other.safetensors"), rows.toString());
        assertFalse(originals.get(0).substring(originals.get(0).indexOf(",")).equals(
                originals.get(1).substring(originals.get(1).indexOf(","))), "two bases, two sets of figures: " + rows);
        String md = Files.readString(out2.resolve("compare.md"));
        assertTrue(md.contains("other.safetensors"), md);
    }

    @Test
    void evalPicturesOfStemsThatDifferOnlyInCaseAreRefused() throws Exception {
        // panels/A.png and panels/a.png are one file on macOS and Windows
        Path data = EvalCommandTest.data(tmp);
        Files.move(data.resolve("images/b_color.png"), data.resolve("images/A_color.png"));
        Files.move(data.resolve("depth/b_rawDepth.npy"), data.resolve("depth/A_rawDepth.npy"));
        Path ck = checkpoint(tmp.resolve("ck/best"), WEIGHTS, Checksums.sha256(WEIGHTS), 5);
        Path out = tmp.resolve("eval");
        refused(run("eval", "--checkpoint", ck.toString(), "--data", data.toString(), "--split", "all", "--model-config",
                FIXTURE.resolve("model.yaml").toString(), "--input-size", "98", "--cache-dir",
                tmp.resolve("cache").toString(), "--threads", "1", "--output", out.toString()), "A_color.png",
                "a_color.png", "a.png");
        assertFalse(Files.exists(out), "nothing written");
    }

    @Test
    void evalPictureOntoItsOwnModelConfigIsRefused() throws Exception {
        // eval's picture of pair "a" is panels/a.png: a --model-config there is an input the picture would replace
        Path data = EvalCommandTest.data(tmp);
        Path ck = checkpoint(tmp.resolve("ck/best"), WEIGHTS, Checksums.sha256(WEIGHTS), 5);
        Path out = tmp.resolve("eval");
        Path config = Files.copy(FIXTURE.resolve("model.yaml"), Files.createDirectories(out.resolve("panels"))
                .resolve("a.png"));
        Map<String, String> was = snapshot(out);
        refused(run("eval", "--checkpoint", ck.toString(), "--data", data.toString(), "--split", "all", "--model-config",
                config.toString(), "--input-size", "98", "--cache-dir", tmp.resolve("cache").toString(), "--threads",
                "1", "--output", out.toString()), "a.png", "--model-config");
        assertEquals(was, snapshot(out), "nothing written");
    }

    @Test
    void predictOnAFixedSizeOnnxFileRefusesInputSize() throws Exception {
        Path onnx = tmp.resolve("m.onnx");
        DataCommandTest.Run e = run("export", "--format", "onnx", "--weights", WEIGHTS.toString(), "--model-config",
                FIXTURE.resolve("model.yaml").toString(), "--input-size", "98", "--output", onnx.toString());
        assertEquals(0, e.rc(), e.err());
        Path out = tmp.resolve("out");
        refused(run("predict", "--onnx", onnx.toString(), "--input", FIXTURE.resolve("image.png").toString(), "--output",
                out.toString(), "--input-size", "70"), "--input-size 70", "98x98");
        assertFalse(Files.exists(out), "nothing written");
        DataCommandTest.Run ok = run("predict", "--onnx", onnx.toString(), "--input", FIXTURE.resolve("image.png").toString(),
                "--output", out.toString());
        assertEquals(0, ok.rc(), ok.err());
        assertArrayEquals(new String[] {"image.npy", "image.png"}, OnnxCommandTestFiles.names(out));
    }

    private static String[] concat(String[] a, String... b) {
        String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
