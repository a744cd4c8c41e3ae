package com.loratool.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.loratool.LoraException;
import com.loratool.data.Cv;
import com.loratool.io.BatchFailures;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.opencv.core.CvType;
import org.opencv.core.Mat;
import org.opencv.core.Scalar;
import org.opencv.imgcodecs.Imgcodecs;

class EvaluatorTest {
    @BeforeAll
    static void opencv() {
        Cv.load();
    }

    static EvalSample sample(String name, int w, int h) {
        float[] z = new float[w * h];
        for (int i = 0; i < z.length; i++) {
            z[i] = 800 + (i % w) * 10 + (i / w) * 3;
        }
        z[0] = Float.NaN;
        return new EvalSample(name, Path.of(name + ".png"), new Mat(h, w, CvType.CV_8UC3, new Scalar(40, 90, 160)), z);
    }

    /** LoRA = a perfect disparity (scaled and shifted), original = a flat guess. */
    @Test
    void perfectLoraBeatsFlatOriginalAndEverythingIsWritten(@TempDir Path dir) throws Exception {
        DepthModel perfect = s -> {
            float[] p = new float[s.depth().length];
            for (int i = 0; i < p.length; i++) {
                p[i] = Float.isNaN(s.depth()[i]) ? 0 : 3f * 1000f / s.depth()[i] + 0.5f;
            }
            return p;
        };
        DepthModel flat = s -> new float[s.depth().length];
        List<EvalSample> samples = List.of(sample("a", 30, 20), sample("b", 28, 14));
        Path panels = dir.resolve("panels");
        EvalResult r = new Evaluator(perfect, flat, "LoRA", false).run(samples, panels);
        assertEquals(2, r.images().size());
        assertTrue(r.lora().absRel() < 1e-5, "" + r.lora().absRel());
        assertEquals(1.0, r.lora().delta1());
        assertTrue(r.original().absRel() > 0.05);
        assertTrue(r.difference().absRel() < 0);
        assertEquals(30 * 20 - 1 + 28 * 14 - 1, r.lora().pixels());

        Map<String, String> settings = new LinkedHashMap<>();
        settings.put("checkpoint", "runs/x/best");
        Path loss = dir.resolve("loss.png");
        Files.writeString(loss, "png");
        new EvalReport(r, settings, loss).write(dir, panels);
        JsonNode j = new ObjectMapper().readTree(dir.resolve("metrics.json").toFile());
        assertEquals(2, j.get("images").asInt());
        assertEquals(r.original().absRel(), j.at("/mean/original/abs_rel").asDouble(), 1e-12);
        assertEquals("runs/x/best", j.at("/settings/checkpoint").asText());
        List<String> csv = Files.readAllLines(dir.resolve("metrics.csv"));
        assertEquals(1 + 4 + 3, csv.size());
        assertTrue(csv.get(0).startsWith("image,model,abs_rel,sq_rel,rmse,rmse_log,log10,delta1,delta2,delta3,silog"));
        String md = Files.readString(dir.resolve("report.md"));
        assertTrue(md.contains("![a](panels/a.png)"), md);
        assertTrue(md.contains("[loss.png](loss.png)"));
        assertTrue(md.contains("| AbsRel |"));
        Mat pic = Imgcodecs.imread(panels.resolve("b.png").toString());
        assertEquals(4 * 28 + PanelRenderer.BAR_WIDTH, pic.cols());
        String cmp = EvalReport.compareMarkdown(List.of("run1", "run2"), List.of(r, r));
        assertEquals(1 + 3, cmp.lines().filter(l -> l.startsWith("| ")).count()); // header + original, run1, run2
        assertTrue(cmp.contains("| run2 |"));
    }
    /** A sample whose prediction fails is left out (recorded against its file); the others are scored. */
    @Test
    void aFailedPredictionIsLeftOutAndTheOthersAreScored(@TempDir Path dir) {
        DepthModel flaky = s -> {
            if (s.name().equals("b")) {
                throw new LoraException(s.imageFile() + ": prediction failed");
            }
            return new float[s.depth().length];
        };
        List<EvalSample> samples = List.of(sample("a", 30, 20), sample("b", 28, 14), sample("c", 28, 14));
        Function<EvalSample, Evaluator.Item> id = s -> new Evaluator.Item(s.name(), s.imageFile());
        BatchFailures failures = new BatchFailures(false);
        EvalResult r = new Evaluator(flaky, flaky, "LoRA", false).run(samples, id, s -> s, dir, failures);
        assertEquals(List.of("a", "c"), r.images().stream().map(ImageResult::name).toList());
        assertEquals(3, r.pairs());
        assertEquals(1, r.leftOut().size());
        assertEquals("b", r.leftOut().get(0).image());
        assertEquals(Path.of("b.png"), r.leftOut().get(0).failure().file());
        assertEquals(EvalResult.of(List.of(r.images().get(0), r.images().get(1))).lora(), r.lora());
        // a second checkpoint over the same samples does not try b again, and its result also leaves it out
        int[] calls = {0};
        DepthModel counting = s -> {
            calls[0]++;
            return new float[s.depth().length];
        };
        EvalResult second = new Evaluator(counting, counting, "LoRA", false).run(samples, id, s -> s, null, failures);
        assertEquals(2 * 2, calls[0]);
        assertEquals(1, second.leftOut().size());
        // fail-fast: the error itself; an error that is no sample's (the model) stops the batch either way
        assertThrows(LoraException.class, () -> new Evaluator(flaky, flaky, "LoRA", false).run(samples, id, s -> s,
                null, new BatchFailures(true)));
        LoraException build = new LoraException("weights.pth: cannot build the model");
        DepthModel broken = s -> {
            throw BatchFailures.stopsTheBatch(build);
        };
        assertSame(build, assertThrows(LoraException.class, () -> new Evaluator(broken, broken, "LoRA", false)
                .run(samples, id, s -> s, null, new BatchFailures(false))));
    }
}
