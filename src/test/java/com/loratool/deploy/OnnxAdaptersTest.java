package com.loratool.deploy;

import com.loratool.checkpoint.ModelResolver;
import com.loratool.checkpoint.ModelSource;
import java.util.Map;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import com.loratool.config.LoraConfig;
import com.loratool.io.Checksums;
import com.loratool.io.HostTensor;
import com.loratool.lora.AdapterCheckpoint;
import com.loratool.lora.AdapterConfig;
import com.loratool.lora.AdapterSet;
import com.loratool.lora.LoraInjector;
import com.loratool.lora.LoraModel;
import com.loratool.model.DepthAnythingV2;
import com.loratool.model.ModelConfig;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Checkpoints with each adapter kind (fused qkv + head convs, q,v slices with DoRA) exported
 * through {@link OnnxDeployment#resolve}: the merged graph in ONNX Runtime equals the toolkit's
 * forward, and the adapters changed the weights (so the test sees them).
 */
class OnnxAdaptersTest {
    @TempDir
    Path dir;

    /** A checkpoint of random (non-zero) adapters of {@code c} on {@code weights}. */
    static Path checkpoint(Path dir, Path weights, Path yaml, LoraConfig c) {
        try (NDManager m = NDManager.newBaseManager()) {
            DepthAnythingV2 model = ModelResolver.resolve(new ModelSource.Weights(weights, yaml)).instantiate(m);
            try (LoraModel lm = LoraInjector.inject(model, c, 3, m)) {
                Random rnd = new Random(11);
                Map<String, HostTensor> out = new LinkedHashMap<>();
                lm.adapterTensors().forEach((k, t) -> {
                    float[] v = t.data().clone();
                    for (int i = 0; i < v.length; i++) {
                        v[i] = k.endsWith(AdapterSet.M_SUFFIX) ? (float) (v[i] * (1 + 0.3 * rnd.nextGaussian()))
                                : (float) (rnd.nextGaussian() * 0.2);
                    }
                    out.put(k, new HostTensor(t.shape(), v));
                });
                lm.loadAdapterTensors(out, "test");
                Path ck = dir.resolve("ck");
                AdapterCheckpoint.save(ck, AdapterConfig.of(lm, weights.toString(), Checksums.sha256(weights), null, 1),
                        lm.adapterTensors());
                return ck;
            }
        }
    }

    void exportsAndMatches(Path weights, Path yaml, LoraConfig c, String changedKey) {
        Path ck = checkpoint(dir, weights, yaml, c);
        OnnxDeployment.Source s = OnnxDeployment.resolve(ck, null, yaml);
        OnnxDeployment.Source base = OnnxDeployment.resolve(null, weights, yaml);
        assertFalse(Arrays.equals(base.stateDict().get(changedKey).data(), s.stateDict().get(changedKey).data()),
                changedKey + " unchanged by the adapters");
        OnnxExportTest.assertParity(OnnxExportTest.certify(s, new OnnxOptions(56, 70, true, 17, false)));
    }

    @Test
    void fusedQkvAndHeadConvAdapters() {
        LoraConfig b = LoraConfig.defaults().with(Map.of("r", 4, "alpha", 8, "targets", List.of("qkv"), "head_convs", true));
        exportsAndMatches(OnnxExportTest.TINY, OnnxExportTest.FIX.resolve("da2-tiny/model.yaml"), b,
                "depth_head.scratch.refinenet1.resConfUnit1.conv1.weight");
    }

    @Test
    void qvSlicesWithDoraOnTheMetricModel() {
        LoraConfig b = LoraConfig.defaults().with(Map.of("r", 4, "alpha", 4, "targets", List.of("qkv:q,v"), "dora", true));
        Path yaml = OnnxExportTest.FIX.resolve("da2-tiny-metric/model.yaml");
        assertTrue(ModelConfig.fromYaml(yaml).isMetric());
        exportsAndMatches(OnnxExportTest.METRIC, yaml, b, "pretrained.blocks.0.attn.qkv.weight");
    }
}
