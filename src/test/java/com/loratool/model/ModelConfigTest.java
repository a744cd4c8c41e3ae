package com.loratool.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
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

    private static HostTensor zeros(long... shape) {
        return new HostTensor(shape, new float[(int) HostTensor.numel(shape)]);
    }
}
