package com.loratool.train;

import com.loratool.checkpoint.ResolvedModel;
import com.loratool.checkpoint.ModelSource;
import com.loratool.checkpoint.ModelResolver;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.loratool.LoraException;
import com.loratool.config.ConfigLoader;
import com.loratool.config.RunConfig;
import com.loratool.model.ModelConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The loss must suit the base model's kind; a metric checkpoint given only as model.weights is metric. */
class MetricRunConfigTest {
    static final Path FIX = Path.of(System.getProperty("fixtures.dir", "fixtures"));

    @TempDir
    Path tmp;

    RunConfig config(String model, String loss) throws Exception {
        Path f = tmp.resolve("run.yaml");
        Files.writeString(f, "model:\n" + model + "data:\n  root: " + tmp.resolve("data") + "\nlora:\n  r: 2\n"
                + "train:\n  loss: " + loss + "\n  output_dir: " + tmp.resolve("runs") + "\n");
        return ConfigLoader.load(f, List.of());
    }

    static LoraException refused(RunConfig cfg) {
        return assertThrows(LoraException.class, () -> new TrainRun(cfg, null).train(new TrainRun.Settings(false, false, true, true, List.of())));
    }

    @Test
    void aRelativeLossOnAMetricPresetIsRefusedBeforeAnythingIsWritten() throws Exception {
        RunConfig cfg = config("  weights: random\n  preset: vits-metric-indoor\n", "ssi");
        LoraException e = refused(cfg);
        assertEquals(tmp.resolve("run.yaml") + ": train.loss ssi is a relative-depth loss (up to scale and shift) but "
                + "model.preset vits-metric-indoor is a metric model (depth in metres); use train.loss: metric_silog",
                e.getMessage());
        assertFalse(Files.exists(tmp.resolve("runs")), "nothing written");
    }

    @Test
    void aMetricLossOnARelativeModelIsRefused() throws Exception {
        Path yaml = FIX.resolve("da2-tiny-pretrained/model.yaml");
        LoraException e = refused(config("  weights: random\n  config: " + yaml + "\n", "metric_silog"));
        assertTrue(e.getMessage().startsWith(tmp.resolve("run.yaml") + ": train.loss metric_silog is a metric-depth loss"
                + " but model.config " + yaml + " is a relative model"), e.getMessage());
        assertFalse(e.getMessage().contains("\n"));
    }

    @Test
    void aMetricModelYamlNeedsTheMetricLoss() throws Exception {
        Path yaml = FIX.resolve("da2-tiny-metric-pretrained/model.yaml");
        LoraException e = refused(config("  weights: random\n  config: " + yaml + "\n", "silog"));
        assertTrue(e.getMessage().contains("train.loss silog is a relative-depth loss"), e.getMessage());
    }

    /** An HF folder (config.json says metric) as model.weights, no preset or model.yaml. */
    @Test
    void aHuggingFaceMetricFolderAsWeightsLoadsAsMetric() throws Exception {
        Path repo = Files.createDirectories(tmp.resolve("Depth-Anything-V2-Metric-Indoor-Tiny-hf"));
        Files.copy(FIX.resolve("da2-tiny-metric/weights-hf.safetensors"), repo.resolve("model.safetensors"));
        Files.writeString(repo.resolve("config.json"), """
                {"model_type": "depth_anything",
                 "backbone_config": {"model_type": "dinov2", "hidden_size": 48, "num_hidden_layers": 4,
                   "num_attention_heads": 3, "image_size": 518, "patch_size": 14, "out_indices": [1, 2, 3, 4]},
                 "depth_estimation_type": "metric", "max_depth": 20, "fusion_hidden_size": 16,
                 "neck_hidden_sizes": [8, 16, 32, 48], "reassemble_factors": [4, 2, 1, 0.5]}
                """);
        RunConfig cfg = config("  weights: " + repo + "\n", "ssi");
        ResolvedModel w = ModelResolver.resolve(new ModelSource.Run(cfg));
        assertEquals(ModelConfig.fromYaml(FIX.resolve("da2-tiny-metric/model.yaml")), w.architecture());
        assertTrue(ModelResolver.declared(cfg.model).isMetric(), "known before reading the tensors");
        LoraException e = refused(cfg);
        assertTrue(e.getMessage().contains("but model.weights " + repo + " is a metric model"), e.getMessage());
    }
}
