package com.loratool.checkpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.loratool.LoraException;
import com.loratool.io.Checksums;
import com.loratool.io.HostTensor;
import com.loratool.lora.AdapterCheckpoint;
import com.loratool.lora.AdapterSet;
import com.loratool.lora.LoraPair;
import com.loratool.lora.LoraScaling;
import com.loratool.config.ModelSection;
import com.loratool.config.RunConfig;
import com.loratool.model.Fixtures;
import com.loratool.model.ModelConfig;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 26: the resolver gives Depth Anything 3 models only to the commands that say they run them
 * ({@link ModelResolver.Da3}: base weights, LoRA checkpoints); any other refuses one in one line
 * naming the command. No command name decides anything: the same name with another capability
 * resolves differently.
 */
class Da3ResolverTest {
    static final Path MONO = Fixtures.shared("da3-tiny-mono");

    @TempDir
    Path tmp;

    private static ModelResolver.Options runs(String command, Set<ModelResolver.Da3> what) {
        return ModelResolver.Options.DEFAULT.runs(command, what);
    }

    /** A checkpoint on the da3-tiny-mono base: r 2 on block 0's qkv (zero B: the base's output). */
    private Path da3Checkpoint() {
        LinkedHashMap<String, LoraPair> m = new LinkedHashMap<>();
        m.put("model.backbone.pretrained.blocks.0.attn.qkv", new LoraPair(new HostTensor(new long[] {2, 48},
                new float[96]), new HostTensor(new long[] {144, 2}, new float[288])));
        Path weights = MONO.resolve("model.safetensors");
        Path ck = tmp.resolve("ck");
        AdapterCheckpoint.save(ck, new AdapterSet(m), new LoraScaling(2, 2, false), weights, Checksums.sha256(weights),
                null);
        return ck;
    }

    @Test
    void commandsThatRunDa3WeightsResolveThem() {
        for (Path p : new Path[] {MONO, MONO.resolve("model.safetensors")}) {
            ResolvedModel m = ModelResolver.resolve(new ModelSource.Weights(p, null),
                    runs("predict", Set.of(ModelResolver.Da3.WEIGHTS)));
            assertEquals(ModelConfig.Family.DA3MONO, m.architecture().family());
            assertTrue(m.isDa3());
        }
        ResolvedModel metric = ModelResolver.resolve(new ModelSource.Weights(Fixtures.shared("da3-tiny-metric"), null),
                runs("info", ModelResolver.Da3.ALL));
        assertEquals(ModelConfig.Family.DA3METRIC, metric.architecture().family());
    }

    @Test
    void theOtherCommandsRefuseDa3InOneLine() {
        for (String cmd : new String[] {"eval-completion"}) {
            LoraException e = assertThrows(LoraException.class, () -> ModelResolver.resolve(
                    new ModelSource.Weights(MONO, null), ModelResolver.Options.DEFAULT.command(cmd)));
            assertTrue(e.getMessage().contains("Depth Anything 3 is not supported by lora " + cmd + " yet"),
                    e.getMessage());
            assertFalse(e.getMessage().contains("\n"), e.getMessage());
        }
        // a library caller that names no command
        LoraException e = assertThrows(LoraException.class, () -> ModelResolver.resolve(
                new ModelSource.Weights(MONO, null)));
        assertTrue(e.getMessage().contains("not supported by this command"), e.getMessage());
    }

    /** The capability decides, not the name: "train" without CHECKPOINTS refuses a DA3 checkpoint. */
    @Test
    void da3CheckpointsResolveOnlyWithTheCheckpointCapability() {
        Path ck = da3Checkpoint();
        ModelSource.Checkpoint source = new ModelSource.Checkpoint(ck, null, null);
        ResolvedModel m = ModelResolver.resolve(source, runs("export", Set.of(ModelResolver.Da3.CHECKPOINTS)));
        assertEquals(ModelConfig.Family.DA3MONO, m.architecture().family());
        assertTrue(m.adapters().isPresent());
        assertEquals(MONO.resolve("model.safetensors"), m.provenance().file());
        for (String cmd : new String[] {"train", "eval", "import"}) {
            LoraException e = assertThrows(LoraException.class, () -> ModelResolver.resolve(source,
                    runs(cmd, Set.of(ModelResolver.Da3.WEIGHTS))));
            assertTrue(e.getMessage().startsWith(ck + ": a LoRA checkpoint on a da3mono base"), e.getMessage());
            assertTrue(e.getMessage().contains("not supported by lora " + cmd), e.getMessage());
        }
        // and base weights need the weights capability
        LoraException e = assertThrows(LoraException.class, () -> ModelResolver.resolve(
                new ModelSource.Weights(MONO, null), runs("x", Set.of(ModelResolver.Da3.CHECKPOINTS))));
        assertTrue(e.getMessage().contains("da3mono weights: Depth Anything 3 is not supported by lora x"),
                e.getMessage());
    }

    /** A V2 checkpoint given as Depth Anything 3 stays refused, whatever the command runs. */
    @Test
    void aV2CheckpointGivenAsDa3IsRefused() {
        Path v2 = Fixtures.shared("da2-tiny").resolve("weights.pth");
        Path da3Yaml = MONO.resolve("model.yaml");
        LoraException e = assertThrows(LoraException.class, () -> ModelResolver.resolve(
                new ModelSource.Weights(v2, da3Yaml), runs("predict", ModelResolver.Da3.ALL)));
        assertTrue(e.getMessage().contains("is a Depth Anything V2 checkpoint, not a Depth Anything 3 one"),
                e.getMessage());
    }

    /**
     * A run description with the da3mono-large preset (what lora sweep and lora benchmark resolve, with
     * both capabilities; their end-to-end tests are Da3SweepEvalTest and BenchmarkDa3Test) passes the
     * resolver's DA3 gate and gets as far as its weights (here missing, so that no ViT-L is built),
     * where a V2-only command (eval-completion) is refused at the preset.
     */
    @Test
    void da3PresetRunDescriptionsResolveWithTheCapability() {
        RunConfig cfg = new RunConfig().with("model",
                ModelSection.of("no-such-da3-weights.safetensors", "da3mono-large"));
        for (String cmd : new String[] {"sweep", "benchmark"}) {
            LoraException e = assertThrows(LoraException.class, () -> ModelResolver.resolve(new ModelSource.Run(cfg),
                    runs(cmd, ModelResolver.Da3.ALL)));
            assertTrue(e.getMessage().contains("base weights not found"), e.getMessage());
            ResolvedModel m = ModelResolver.resolve(new ModelSource.Weights(MONO, null),
                    runs(cmd, ModelResolver.Da3.ALL));
            assertEquals(ModelConfig.Family.DA3MONO, m.architecture().family());
        }
        LoraException refused = assertThrows(LoraException.class, () -> ModelResolver.resolve(new ModelSource.Run(cfg),
                ModelResolver.Options.DEFAULT.command("eval-completion")));
        assertTrue(refused.getMessage().contains("model.preset da3mono-large: da3mono is a Depth Anything 3"),
                refused.getMessage());
    }
}
