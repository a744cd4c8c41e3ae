package com.loratool.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.loratool.data.Cv;
import com.loratool.io.Checksums;
import com.loratool.model.Fixtures;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 21, part 3: the batch commands other than predict go on past a bad file, list every failure at the end
 * (file and reason) and exit 1; {@code --fail-fast} is the old behaviour (exit 2, one line). Each data folder has
 * one bad file sorted between good ones.
 */
class BatchContinuationTest {
    static final Path SAMPLES = DataCommandTest.SAMPLES;
    static final String[] SAMPLE_STEMS = {"21-12-03-18-50-00", "21-12-03-18-50-07"};
    static final byte[] GARBAGE = "these bytes are not an image or an array".getBytes(StandardCharsets.UTF_8);

    @TempDir
    Path tmp;

    @BeforeAll
    static void opencv() {
        Cv.load();
    }

    static DataCommandTest.Run run(String... args) {
        return DataCommandTest.run(args);
    }

    static String[] with(String[] args, String... more) {
        return EvalCommandTest.append(args, more);
    }

    /** images/{a,b,c}_color.png + depth/{a,x,c}_rawDepth.npy from the bundled samples; b's image is garbage. */
    private Path samplesWithACorruptImage() throws Exception {
        Path data = tmp.resolve("data");
        Path img = Files.createDirectories(data.resolve("images"));
        Path dep = Files.createDirectories(data.resolve("depth"));
        String[] stems = {"a", "b", "c"};
        for (int i = 0; i < stems.length; i++) {
            String src = SAMPLE_STEMS[i == 2 ? 1 : 0] + "_Zivid_acquisition";
            Files.copy(SAMPLES.resolve("images/" + src + "_color.png"), img.resolve(stems[i] + "_color.png"));
            Files.copy(SAMPLES.resolve("depth/" + src + "_rawDepth.npy"), dep.resolve(stems[i] + "_rawDepth.npy"));
        }
        Files.write(img.resolve("b_color.png"), GARBAGE);
        return data;
    }

    private static void assertOneLineError(DataCommandTest.Run r, String mentions) {
        assertEquals(Main.EXIT_USER_ERROR, r.rc(), r.out() + r.err());
        String e = r.err().strip();
        assertEquals(1, e.lines().count(), e);
        assertTrue(e.startsWith("error: ") && e.contains(mentions), e);
    }

    @Test
    void dataPreviewWritesTheGoodPairsAndListsTheCorruptOne() throws Exception {
        Path data = samplesWithACorruptImage();
        Path out = tmp.resolve("preview");
        String[] args = {"data", "preview", "--data", data.toString(), "--output", out.toString(), "--scale", "4"};
        DataCommandTest.Run r = run(args);
        assertEquals(1, r.rc(), r.out() + r.err());
        for (String s : new String[] {"a", "c"}) {
            for (String suffix : new String[] {"_rgb.png", "_z.png", "_mask.png"}) {
                assertTrue(Files.size(out.resolve(s + suffix)) > 50, s + suffix + ": " + r.err());
            }
        }
        try (Stream<Path> s = Files.list(out)) {
            assertEquals(0, s.filter(p -> p.getFileName().toString().startsWith("b_")).count());
        }
        assertTrue(r.out().contains("wrote previews of 2 of 3 sample(s)"), r.out());
        assertTrue(r.err().contains("data preview: 1 of 3 input(s) failed"), r.err());
        assertTrue(r.err().contains("b_color.png: cannot decode image"), r.err());

        Path out2 = tmp.resolve("preview-ff");
        DataCommandTest.Run ff = run(with(new String[] {"data", "preview", "--data", data.toString(), "--output",
            out2.toString(), "--scale", "4"}, "--fail-fast"));
        assertOneLineError(ff, "b_color.png: cannot decode image");
        assertFalse(Files.exists(out2.resolve("c_rgb.png")), "stops at b");
    }

    @Test
    void evalScoresTheGoodPairsAndReportsTheLeftOutOnes() throws Exception {
        Path fixture = EvalCommandTest.FIXTURE;
        Path ck = ExportImportCommandTest.checkpoint(tmp, fixture.resolve("weights.pth"),
                Checksums.sha256(fixture.resolve("weights.pth")));
        Path data = EvalCommandTest.data(tmp); // pairs a and b
        Path cache = tmp.resolve("cache");
        Path clean = tmp.resolve("eval-clean");
        String[] common = {"eval", "--checkpoint", ck.toString(), "--data", data.toString(), "--split", "all",
            "--model-config", fixture.resolve("model.yaml").toString(), "--input-size", "98", "--cache-dir",
            cache.toString(), "--threads", "1", "--output"};
        DataCommandTest.Run r0 = run(with(common, clean.toString()));
        assertEquals(0, r0.rc(), r0.err());
        // the same two pairs plus ab (garbage image, sorted between a and b) and bc (garbage depth file)
        Files.write(data.resolve("images/ab_color.png"), GARBAGE);
        Files.copy(data.resolve("depth/a_rawDepth.npy"), data.resolve("depth/ab_rawDepth.npy"));
        Files.copy(data.resolve("images/b_color.png"), data.resolve("images/bc_color.png"));
        Files.write(data.resolve("depth/bc_rawDepth.npy"), GARBAGE);
        Path out = tmp.resolve("eval");
        DataCommandTest.Run r = run(with(common, out.toString()));
        assertEquals(1, r.rc(), r.out() + r.err());

        JsonNode m = new ObjectMapper().readTree(out.resolve("metrics.json").toFile());
        JsonNode full = new ObjectMapper().readTree(clean.resolve("metrics.json").toFile());
        assertEquals(2, m.get("images").asInt());
        assertEquals(4, m.get("pairs").asInt());
        assertEquals(0, full.get("left_out").size());
        assertEquals(2, full.get("pairs").asInt());
        // the means are those of the two good pairs alone
        assertEquals(full.get("mean"), m.get("mean"));
        assertEquals(full.get("per_image"), m.get("per_image"));
        JsonNode left = m.get("left_out");
        assertEquals(2, left.size(), left.toString());
        assertTrue(left.get(0).get("file").asText().endsWith("ab_color.png"), left.toString());
        assertTrue(left.get(0).get("reason").asText().contains("cannot decode image"), left.toString());
        assertTrue(left.get(1).get("file").asText().endsWith("bc_color.png"), left.toString());
        assertTrue(left.get(1).get("reason").asText().contains("bc_rawDepth.npy"), left.toString());

        String md = Files.readString(out.resolve("report.md"));
        assertTrue(md.contains("2 of 4 pairs"), md);
        assertTrue(md.contains("## Left out") && md.contains("ab_color.png") && md.contains("bc_rawDepth.npy"), md);
        List<String> csv = Files.readAllLines(out.resolve("metrics.csv"));
        assertTrue(csv.stream().anyMatch(l -> l.startsWith("ab,left_out")), csv.toString());
        assertTrue(csv.stream().anyMatch(l -> l.startsWith("bc,left_out")), csv.toString());
        assertTrue(Files.exists(out.resolve("panels/a.png")) && Files.exists(out.resolve("panels/b.png")));
        assertFalse(Files.exists(out.resolve("panels/ab.png")));
        assertTrue(r.out().contains("2 images (2 of 4 pairs left out)"), r.out());
        assertTrue(r.err().contains("error: eval: 2 of 4 input(s) failed"), r.err());
        assertTrue(r.err().contains("ab_color.png: cannot decode image") && r.err().contains("bc_rawDepth.npy"), r.err());

        // --compare: each pair's failure is listed once, and the comparison says which pairs its means leave out
        Path ck2 = ExportImportCommandTest.checkpoint(tmp.resolve("second"), fixture.resolve("weights.pth"),
                Checksums.sha256(fixture.resolve("weights.pth")));
        Path cmp = tmp.resolve("eval-compare");
        DataCommandTest.Run rc = run(with(with(common, cmp.toString()), "--compare", ck2.toString(), "--no-pictures"));
        assertEquals(1, rc.rc(), rc.out() + rc.err());
        assertTrue(rc.err().contains("error: eval: 2 of 4 input(s) failed"), rc.err());
        assertEquals(1, rc.err().lines().filter(l -> l.contains("ab_color.png")).count(), rc.err());
        String cmd = Files.readString(cmp.resolve("compare.md"));
        assertTrue(cmd.contains("Partial evaluation") && cmd.contains("2 of 4 pairs left out: ab, bc"), cmd);
        List<String> ccsv = Files.readAllLines(cmp.resolve("compare.csv"));
        assertTrue(ccsv.get(0).endsWith(",images,left_out"), ccsv.get(0));
        assertEquals(4, ccsv.size(), ccsv.toString()); // header, original, two checkpoints
        ccsv.subList(1, 4).forEach(l -> assertTrue(l.endsWith(",2,2"), l));

        // --fail-fast: the old behaviour, one line and no report
        Path out2 = tmp.resolve("eval-ff");
        DataCommandTest.Run ff = run(with(with(common, out2.toString()), "--fail-fast"));
        assertOneLineError(ff, "ab_color.png: cannot decode image");
        try (Stream<Path> s = Files.exists(out2) ? Files.walk(out2) : Stream.empty()) {
            assertEquals(0, s.filter(Files::isRegularFile).count(), "files left in " + out2);
        }
    }

    @Test
    void evalCompletionScoresTheGoodPairsAndListsTheCorruptOne() throws Exception {
        Path data = samplesWithACorruptImage();
        Path fixture = Fixtures.shared("da2-tiny");
        Path csv = tmp.resolve("c.csv");
        String[] args = {"eval-completion", "--data", data.toString(), "--weights",
            fixture.resolve("weights.pth").toString(), "--model-config", fixture.resolve("model.yaml").toString(),
            "--input-size", "70", "--device", "cpu", "--threads", "1", "--output", csv.toString()};
        DataCommandTest.Run r = run(args);
        assertEquals(1, r.rc(), r.out() + r.err());
        List<String> rows = Files.readAllLines(csv);
        assertEquals(List.of("a", "c", "all"), rows.subList(1, rows.size()).stream()
                .map(l -> l.split(",")[0].split(" ")[0]).toList(), rows.toString());
        assertTrue(rows.get(3).contains("1 of 3 pairs left out"), rows.get(3));
        assertTrue(Long.parseLong(rows.get(3).split(",")[1]) > 0, rows.get(3));
        assertTrue(r.err().contains("eval-completion: 1 of 3 input(s) failed"), r.err());
        assertTrue(r.err().contains("b_color.png: cannot decode image"), r.err());

        DataCommandTest.Run ff = run(with(args, "--fail-fast"));
        assertOneLineError(ff, "b_color.png: cannot decode image");
    }

    @Test
    void intrinsicsFitsTheGoodCloudsAndListsTheCorruptOne() throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("clouds"));
        Files.copy(SAMPLES.resolve("depth/" + SAMPLE_STEMS[0] + "_Zivid_acquisition_rawDepth.npy"), dir.resolve("a.npy"));
        Files.write(dir.resolve("b.npy"), GARBAGE);
        Files.copy(SAMPLES.resolve("depth/" + SAMPLE_STEMS[1] + "_Zivid_acquisition_rawDepth.npy"), dir.resolve("c.npy"));
        Path json = tmp.resolve("k.json");
        String[] args = {"data", "intrinsics", "--data", dir.toString(), "--json", json.toString()};
        DataCommandTest.Run r = run(args);
        assertEquals(1, r.rc(), r.out() + r.err());
        assertTrue(r.out().lines().anyMatch(l -> l.startsWith("a.npy ")), r.out());
        assertTrue(r.out().lines().anyMatch(l -> l.startsWith("c.npy ")), r.out());
        assertTrue(r.out().contains("joint (2 files)"), r.out());
        JsonNode k = new ObjectMapper().readTree(json.toFile());
        assertEquals(2, k.get("files").size(), k.toString());
        assertEquals(1, k.get("left_out").size(), k.toString());
        assertTrue(k.at("/left_out/0/file").asText().endsWith("b.npy"), k.toString());
        assertTrue(r.err().contains("data intrinsics: 1 of 3 input(s) failed") && r.err().contains("b.npy"), r.err());

        Path json2 = tmp.resolve("k2.json");
        DataCommandTest.Run ff = run("data", "intrinsics", "--data", dir.toString(), "--json", json2.toString(),
                "--fail-fast");
        assertOneLineError(ff, "b.npy");
        assertFalse(Files.exists(json2));
    }
}
