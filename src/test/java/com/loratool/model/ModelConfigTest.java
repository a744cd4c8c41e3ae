package com.loratool.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.loratool.LoraException;
import com.loratool.io.HostTensor;
import com.loratool.model.weights.StateDicts;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelConfigTest {
    @TempDir
    Path tmp;

    @Test
    void yamlOfTheTinyFixture() {
        ModelConfig c = ModelConfig.fromYaml(Fixtures.shared("da2-tiny").resolve("model.yaml"));
        assertEquals(48, c.embedDim());
        assertEquals(3, c.numHeads());
        assertArrayEquals(new int[] {0, 1, 2, 3}, c.layerIndices());
        assertArrayEquals(new int[] {8, 16, 32, 48}, c.outChannels());
        assertEquals(192, c.mlpHidden());
        assertEquals(Optional.empty(), c.presetName());
    }

    @Test
    void presetsAndTheirNames() {
        assertEquals(Optional.of("vits"), ModelConfig.preset("vits").presetName());
        assertArrayEquals(new int[] {4, 11, 17, 23}, ModelConfig.preset("vitl").layerIndices());
        assertEquals(16, ModelConfig.preset("vitl").numHeads());
        assertEquals(4096, ModelConfig.preset("vitg").mlpHidden()); // SwiGLU: 6144 * 2/3
        assertThrows(LoraException.class, () -> ModelConfig.preset("vith"));
    }

    @Test
    void inferenceRecognisesOfficialShapesAndAsksForConfigOtherwise() {
        LinkedHashMap<String, HostTensor> sd = new LinkedHashMap<>();
        ModelConfig vitb = ModelConfig.preset("vitb");
        sd.put("pretrained.cls_token", zeros(1, 1, 768));
        sd.put("pretrained.pos_embed", zeros(1, 1370, 1));
        sd.put("pretrained.patch_embed.proj.weight", zeros(1, 1, 14, 14));
        for (int i = 0; i < 12; i++) {
            sd.put("pretrained.blocks." + i + ".norm1.weight", zeros(1));
        }
        sd.put("depth_head.scratch.layer1_rn.weight", zeros(128, 1, 1, 1));
        int[] oc = vitb.outChannels();
        for (int i = 0; i < 4; i++) {
            sd.put("depth_head.projects." + i + ".weight", zeros(oc[i], 1, 1, 1));
        }
        assertEquals(vitb, ModelConfig.inferFrom(sd));
        // shapes cannot tell the heads apart; the official metric file names can
        assertEquals(vitb, ModelConfig.inferFrom(sd, Path.of("depth_anything_v2_vitb.pth")));
        assertEquals(ModelConfig.preset("vitb-metric-outdoor"),
                ModelConfig.inferFrom(sd, Path.of("depth_anything_v2_metric_vkitti_vitb.pth")));
        // a name that disagrees with the shapes is ignored
        assertEquals(vitb, ModelConfig.inferFrom(sd, Path.of("depth_anything_v2_metric_vkitti_vitl.pth")));

        LoraException e = assertThrows(LoraException.class,
                () -> ModelConfig.inferFrom(StateDicts.read(Fixtures.shared("da2-tiny").resolve("weights.pth"))));
        assertTrue(e.getMessage().contains("--model-config"), e.getMessage());
        assertThrows(LoraException.class, () -> ModelConfig.inferFrom(new LinkedHashMap<>()));
    }

    @Test
    void badYamlNamesTheFile() throws Exception {
        Path f = Files.writeString(tmp.resolve("m.yaml"), "model:\n  embed_dim: 48\n");
        LoraException e = assertThrows(LoraException.class, () -> ModelConfig.fromYaml(f));
        assertTrue(e.getMessage().startsWith(f.toString()), e.getMessage());
        Path g = Files.writeString(tmp.resolve("p.yaml"), "model:\n  encoder: vitl\n");
        assertEquals(ModelConfig.preset("vitl"), ModelConfig.fromYaml(g));
    }

    @Test
    void metricPresetsAreTheOfficialArchitecturesWithASigmoidHead() {
        for (String enc : new String[] {"vits", "vitb", "vitl"}) {
            ModelConfig in = ModelConfig.preset(enc + "-metric-indoor");
            ModelConfig out = ModelConfig.preset(enc + "-metric-outdoor");
            assertEquals(ModelConfig.HeadActivation.SIGMOID, in.headActivation());
            assertEquals(20.0, in.maxDepth()); // Hypersim
            assertEquals(80.0, out.maxDepth()); // Virtual KITTI 2
            assertEquals(ModelConfig.preset(enc), in.relative());
            assertEquals(Optional.of(enc + "-metric-indoor"), in.presetName());
            assertEquals(Optional.of(enc + "-metric-outdoor"), out.presetName());
            assertNotEquals(ModelConfig.preset(enc), in);
        }
        assertEquals(ModelConfig.HeadActivation.RELU, ModelConfig.preset("vits").headActivation());
        assertEquals(Optional.of("vits"), ModelConfig.preset("vits").presetName());
        assertEquals(Optional.empty(), ModelConfig.preset("vits").metric(10).presetName());
        assertThrows(LoraException.class, () -> ModelConfig.preset("vitg-metric-indoor"));
        assertTrue(ModelConfig.preset("vitl-metric-outdoor").describe().contains("max_depth 80 m"),
                ModelConfig.preset("vitl-metric-outdoor").describe());
    }

    @Test
    void metricYamlKeysAndTheirErrors() throws Exception {
        ModelConfig m = ModelConfig.fromYaml(Fixtures.shared("da2-tiny-metric").resolve("model.yaml"));
        assertTrue(m.isMetric());
        assertEquals(20.0, m.maxDepth());
        assertEquals(ModelConfig.fromYaml(Fixtures.shared("da2-tiny").resolve("model.yaml")), m.relative());
        assertEquals(8.0, ModelConfig.fromYaml(Fixtures.shared("da2-tiny-metric-pretrained").resolve("model.yaml"))
                .maxDepth());

        String arch = "model:\n  embed_dim: 48\n  depth: 4\n  num_heads: 3\n  layer_indices: [0, 1, 2, 3]\n"
                + "  features: 16\n  out_channels: [8, 16, 32, 48]\n";
        for (String[] bad : new String[][] {
            {"head_activation: sigmoid\n", "max_depth"},
            {"head_activation: tanh\n", "head_activation"},
            {"max_depth: 20\n", "head_activation: sigmoid"},
            {"head_activation: sigmoid\n  max_depth: -1\n", "max_depth"},
            {"head_activation: sigmoid\n  max_depth: far\n", "max_depth"}}) {
            Path f = Files.writeString(tmp.resolve("bad.yaml"), arch + "  " + bad[0]);
            LoraException e = assertThrows(LoraException.class, () -> ModelConfig.fromYaml(f), bad[0]);
            assertTrue(e.getMessage().startsWith(f.toString()) && e.getMessage().contains(bad[1]), e.getMessage());
        }
        Path p = Files.writeString(tmp.resolve("p.yaml"), "model:\n  encoder: vitb-metric-outdoor\n");
        assertEquals(ModelConfig.preset("vitb-metric-outdoor"), ModelConfig.fromYaml(p));
        // a preset's name where a model.yaml is asked for (--model-config vits-metric-indoor)
        assertEquals(ModelConfig.preset("vits-metric-indoor"), ModelConfig.fromYaml(Path.of("vits-metric-indoor")));
        assertThrows(LoraException.class, () -> ModelConfig.fromYaml(Path.of("vits-metric-underwater")));
    }

    @Test
    void officialMetricFileNamesNameTheirPreset() {
        assertEquals(Optional.of("vits-metric-indoor"),
                ModelConfig.officialMetricPreset(Path.of("w/depth_anything_v2_metric_hypersim_vits.pth")));
        assertEquals(Optional.of("vitl-metric-outdoor"),
                ModelConfig.officialMetricPreset(Path.of("depth_anything_v2_metric_vkitti_vitl.pth")));
        assertEquals(Optional.empty(), ModelConfig.officialMetricPreset(Path.of("depth_anything_v2_vits.pth")));
        assertEquals(Optional.empty(), ModelConfig.officialMetricPreset(Path.of("my_metric_model.pth")));
    }

    private static HostTensor zeros(long... shape) {
        return new HostTensor(shape, new float[(int) HostTensor.numel(shape)]);
    }
}
