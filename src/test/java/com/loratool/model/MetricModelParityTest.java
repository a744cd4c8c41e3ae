package com.loratool.model;

import com.loratool.data.Preprocessing;
import com.loratool.config.SizeRule;
import com.loratool.checkpoint.ModelSource;
import com.loratool.checkpoint.ModelResolver;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import com.loratool.io.Npy;
import com.loratool.io.NpyArray;
import com.loratool.model.weights.StateDicts;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.opencv.core.Mat;
import org.opencv.imgcodecs.Imgcodecs;

/**
 * The official metric model ({@code metric_depth/depth_anything_v2/dpt.py}: Sigmoid head x
 * max_depth, metres) against fixtures/da2-tiny-metric, made with that code.
 */
class MetricModelParityTest {
    static final Path DIR = Fixtures.shared("da2-tiny-metric");

    @TempDir
    Path tmp;

    private static double forwardError(DepthAnythingV2 model) {
        NpyArray want = Npy.read(DIR.resolve("expected_raw.npy"));
        try (NDManager step = model.manager().newSubManager()) {
            NDArray x = Fixtures.npy(step, DIR.resolve("input_tensor.npy"));
            NDArray y = model.forward(x);
            assertArrayEquals(want.shape(), y.getShape().getShape());
            return Fixtures.relL2(y.toFloatArray(), want.data());
        }
    }

    private static double forwardError(Path weights, Path modelConfig) {
        try (NDManager base = NDManager.newBaseManager()) {
            DepthAnythingV2 model = ModelResolver.resolve(new ModelSource.Weights(weights, modelConfig)).instantiate(base);
            return forwardError(model);
        }
    }

    @Test
    void pthForwardMatchesReferenceInMetres() {
        double err = forwardError(DIR.resolve("weights.pth"), DIR.resolve("model.yaml"));
        System.out.println("da2-tiny-metric .pth forward relative L2 " + err);
        assertTrue(err < 1e-4, "relative L2 " + err);
    }

    @Test
    void huggingFaceSafetensorsForwardMatchesReference() {
        double err = forwardError(DIR.resolve("weights-hf.safetensors"), DIR.resolve("model.yaml"));
        System.out.println("da2-tiny-metric HF safetensors forward relative L2 " + err);
        assertTrue(err < 1e-4, "relative L2 " + err);
    }

    @Test
    void fp16WeightsForwardMatchesWithinHalfPrecision() {
        double err = forwardError(DIR.resolve("weights-fp16.pth"), DIR.resolve("model.yaml"));
        System.out.println("da2-tiny-metric fp16 forward relative L2 " + err);
        assertTrue(err < 5e-3, "relative L2 " + err);
    }

    @Test
    void theRelativeHeadOnMetricWeightsIsFarOff() {
        // the same weights read as a relative model (what shape inference alone would give)
        ModelConfig metric = ModelConfig.fromYaml(DIR.resolve("model.yaml"));
        try (NDManager base = NDManager.newBaseManager()) {
            DepthAnythingV2 model = new DepthAnythingV2(metric.relative(), base);
            model.load(StateDicts.read(DIR.resolve("weights.pth")));
            double err = forwardError(model);
            assertTrue(err > 0.5, "relative L2 " + err);
        }
    }

    @Test
    void inferImageGivesMetresAtInputSize98() {
        DepthPredictor.loadOpenCv();
        try (NDManager base = NDManager.newBaseManager()) {
            DepthAnythingV2 model = ModelResolver.resolve(new ModelSource.Weights(DIR.resolve("weights.pth"), DIR.resolve("model.yaml"))).instantiate(base);
            Mat img = Imgcodecs.imread(DIR.resolve("image.png").toString());
            float[] depth = new DepthPredictor(model, Preprocessing.official(SizeRule.lowerBound(98))).predict(img);
            NpyArray want = Npy.read(DIR.resolve("expected_depth.npy"));
            assertArrayEquals(new long[] {img.rows(), img.cols()}, want.shape());
            img.release();
            double err = Fixtures.relL2(depth, want.data());
            System.out.println("da2-tiny-metric infer_image relative L2 " + err);
            assertTrue(err < 1e-4, "relative L2 " + err);
        }
    }

    @Test
    void huggingFaceFolderWithConfigJsonIsMetricWithoutModelYaml() throws Exception {
        // a downloaded HF repository: model.safetensors + config.json (the tiny architecture of
        // model.yaml in transformers' keys; out_indices count the patch embedding as stage 0)
        Path repo = Files.createDirectories(tmp.resolve("Depth-Anything-V2-Metric-Indoor-Tiny-hf"));
        Files.copy(DIR.resolve("weights-hf.safetensors"), repo.resolve("model.safetensors"));
        Files.writeString(repo.resolve("config.json"), """
                {
                  "architectures": ["DepthAnythingForDepthEstimation"],
                  "model_type": "depth_anything",
                  "backbone_config": {
                    "model_type": "dinov2", "hidden_size": 48, "num_hidden_layers": 4,
                    "num_attention_heads": 3, "image_size": 518, "patch_size": 14,
                    "out_indices": [1, 2, 3, 4], "reshape_hidden_states": false
                  },
                  "depth_estimation_type": "metric",
                  "max_depth": 20,
                  "fusion_hidden_size": 16,
                  "neck_hidden_sizes": [8, 16, 32, 48],
                  "reassemble_factors": [4, 2, 1, 0.5]
                }
                """);
        try (NDManager base = NDManager.newBaseManager()) {
            DepthAnythingV2 model = ModelResolver.resolve(new ModelSource.Weights(repo, null)).instantiate(base);
            assertEquals(ModelConfig.fromYaml(DIR.resolve("model.yaml")), model.config());
            double err = forwardError(model);
            assertTrue(err < 1e-4, "relative L2 " + err);
        }
    }
}
