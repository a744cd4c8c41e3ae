package com.loratool.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Metric LoRA end to end: configs/metric-qkv-r8.yaml (the small pretrained metric model of
 * fixtures/, trained on another kind of tyre scene) on data-samples/, then {@code lora eval}: the
 * adapted model's absolute AbsRel (mm, no alignment) must be clearly below the frozen model's.
 */
class MetricTrainEvalEndToEndTest {
    @TempDir
    Path out;

    @Test
    void metricLoraLowersTheAbsoluteErrorOfTheFrozenModel() throws Exception {
        TrainCommandTest.Run r = TrainCommandTest.run("train", "--config", "configs/metric-qkv-r8.yaml", "--quiet",
                "--set", "train.epochs=5", "--set", "train.output_dir=" + out);
        assertEquals(0, r.code(), r.err());
        Path run = out.resolve("metric-qkv-r8");
        List<String> csv = Files.readAllLines(run.resolve("metrics.csv"));
        assertEquals("epoch,train_loss,val_loss,val_abs_rel,val_delta1,val_rmse,lr,seconds", csv.get(0));
        assertTrue(Files.readString(run.resolve("config.yaml")).contains("loss: metric_silog"));

        TrainCommandTest.Run e = TrainCommandTest.run("eval", "--checkpoint", run.resolve("best").toString(),
                "--no-pictures", "--no-cache", "--output", out.resolve("eval").toString());
        assertEquals(0, e.code(), e.err());
        JsonNode m = new ObjectMapper().readTree(out.resolve("eval/metrics.json").toFile());
        double original = m.at("/mean_absolute/original/abs_rel").asDouble();
        double lora = m.at("/mean_absolute/lora/abs_rel").asDouble();
        // the frozen model is far off on this other kind of scene (0.64 on the 3 validation images; 5 epochs bring it to about 0.38)
        assertTrue(original > 0.6, "frozen absolute AbsRel " + original);
        assertTrue(lora < 0.7 * original, "absolute AbsRel " + original + " -> " + lora);
        assertTrue(m.at("/mean_absolute/lora/rmse").asDouble() < m.at("/mean_absolute/original/rmse").asDouble());
        // the aligned metrics are there too, for comparison with relative models
        assertTrue(m.at("/mean/lora/abs_rel").isNumber() && m.at("/mean/original/abs_rel").isNumber());
        // validation's last absolute AbsRel is the same protocol on the same images
        String[] last = csv.get(csv.size() - 1).split(",");
        assertEquals(Double.parseDouble(last[3]), lora, 0.02, "val_abs_rel vs eval");
        String report = Files.readString(out.resolve("eval/report.md"));
        assertTrue(report.indexOf("## Absolute (no alignment)") < report.indexOf("## Aligned"), report);
    }
}
