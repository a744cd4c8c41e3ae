package com.loratool.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.loratool.data.Cv;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
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
}
