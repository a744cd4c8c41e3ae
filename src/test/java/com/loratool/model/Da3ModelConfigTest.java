package com.loratool.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.loratool.LoraException;
import com.loratool.checkpoint.ModelResolver;
import com.loratool.checkpoint.ModelSource;
import com.loratool.model.ModelConfig.Family;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The Depth Anything 3 members of {@link ModelConfig}: presets, model.yaml, refusals. */
class Da3ModelConfigTest {
    @TempDir
    Path tmp;

    @Test
    void presetsAreViTLargeWithTheOfficialDptSizes() {
        ModelConfig mono = ModelConfig.preset("da3mono-large");
        ModelConfig metric = ModelConfig.preset("da3metric-large");
        for (ModelConfig c : new ModelConfig[] {mono, metric}) {
            assertEquals(1024, c.embedDim());
            assertEquals(24, c.depth());
            assertEquals(16, c.numHeads());
            assertArrayEquals(new int[] {4, 11, 17, 23}, c.layerIndices());
            assertEquals(256, c.features());
            assertArrayEquals(new int[] {256, 512, 1024, 1024}, c.outChannels());
            assertEquals(ModelConfig.HeadActivation.EXP, c.headActivation());
            assertTrue(c.isDa3());
            assertFalse(c.isMetric()); // V2's Sigmoid x max_depth only
            assertEquals(1e-5f, c.finalNormEps());
        }
        assertEquals(Family.DA3MONO, mono.family());
        assertEquals(Family.DA3METRIC, metric.family());
        assertNotEquals(mono, metric);
        assertNotEquals(ModelConfig.preset("vitl"), mono);
        assertEquals("da3mono-large", mono.presetName().orElseThrow());
        assertEquals("da3metric-large", metric.presetName().orElseThrow());
        assertEquals(mono, ModelConfig.fromYaml(Path.of("da3mono-large")));
        assertEquals(Family.V2, ModelConfig.preset("vitl").family());
        assertEquals(1e-6f, ModelConfig.preset("vitl").finalNormEps());
    }

    @Test
    void fixtureModelYamlsReadAsDa3() {
        ModelConfig mono = ModelConfig.fromYaml(Fixtures.shared("da3-tiny-mono").resolve("model.yaml"));
        assertEquals(Family.DA3MONO, mono.family());
        assertArrayEquals(new int[] {0, 1, 2, 3}, mono.layerIndices()); // out_layers
        assertEquals(Family.DA3METRIC,
                ModelConfig.fromYaml(Fixtures.shared("da3-tiny-metric").resolve("model.yaml")).family());
        assertTrue(mono.describe().contains("da3mono"), mono.describe());
    }

    @Test
    void da3DetailsThatDifferAreRefused() throws Exception {
        String base = "model:\n  embed_dim: 48\n  depth: 4\n  num_heads: 3\n  out_layers: [0, 1, 2, 3]\n  features: 16\n"
                + "  out_channels: [8, 16, 32, 48]\n";
        Path ok = tmp.resolve("ok.yaml");
        Files.writeString(ok, base + "  family: da3metric\n");
        assertEquals(Family.DA3METRIC, ModelConfig.fromYaml(ok).family());
        String[] bad = {"  head_activation: exp\n  final_norm_eps: 1e-6\n", "  family: da3mono\n  head_features_2: 64\n",
            "  family: v2\n  head_activation: exp\n", "  family: da3mono\n  head_activation: relu\n",
            "  family: da3mono\n  cat_token: true\n", "  family: da4\n"};
        for (String b : bad) {
            Path f = tmp.resolve("bad.yaml");
            Files.writeString(f, base + b);
            LoraException e = assertThrows(LoraException.class, () -> ModelConfig.fromYaml(f), b);
            assertTrue(e.getMessage().startsWith(f.toString()), e.getMessage());
        }
    }

    @Test
    void theCommandsRefuseADa3ArchitectureForNow() {
        Path v2 = Fixtures.shared("da2-tiny").resolve("weights.pth");
        LoraException e = assertThrows(LoraException.class,
                () -> ModelResolver.resolve(new ModelSource.Weights(v2, Path.of("da3mono-large"))));
        assertTrue(e.getMessage().contains("Depth Anything 3"), e.getMessage());
        Path da3 = Fixtures.shared("da3-tiny-mono").resolve("model.safetensors");
        e = assertThrows(LoraException.class, () -> ModelResolver.resolve(new ModelSource.Weights(da3, null)));
        assertTrue(e.getMessage().startsWith(da3.toString()) && e.getMessage().contains("Depth Anything 3"),
                e.getMessage());
    }
}
