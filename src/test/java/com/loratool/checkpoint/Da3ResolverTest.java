package com.loratool.checkpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.loratool.LoraException;
import com.loratool.config.ModelSection;
import com.loratool.config.RunConfig;
import com.loratool.model.Fixtures;
import com.loratool.model.ModelConfig;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * Issue 26: the resolver gives Depth Anything 3 models only to the commands that run them (predict,
 * info, train, eval, sweep, benchmark); any other refuses one in one line naming the command.
 */
class Da3ResolverTest {
    static final Path MONO = Fixtures.shared("da3-tiny-mono");

    @Test
    void predictAndInfoResolveDa3Weights() {
        for (Path p : new Path[] {MONO, MONO.resolve("model.safetensors")}) {
            ResolvedModel m = ModelResolver.resolve(new ModelSource.Weights(p, null),
                    ModelResolver.Options.DEFAULT.da3Ready("predict"));
            assertEquals(ModelConfig.Family.DA3MONO, m.architecture().family());
        }
        ResolvedModel metric = ModelResolver.resolve(new ModelSource.Weights(Fixtures.shared("da3-tiny-metric"), null),
                ModelResolver.Options.DEFAULT.da3Ready("info"));
        assertEquals(ModelConfig.Family.DA3METRIC, metric.architecture().family());
    }

    @Test
    void theOtherCommandsRefuseDa3InOneLine() {
        for (String cmd : new String[] {"eval-completion"}) {
            LoraException e = assertThrows(LoraException.class, () -> ModelResolver.resolve(
                    new ModelSource.Weights(MONO, null), ModelResolver.Options.DEFAULT.command(cmd)));
            assertTrue(e.getMessage().contains("Depth Anything 3 is not supported by lora " + cmd + " yet"),
                    e.getMessage());
            assertTrue(!e.getMessage().contains("\n"), e.getMessage());
        }
    }

    /** lora train and lora eval resolve Depth Anything 3 base weights (issue 26, train slice). */
    @Test
    void trainAndEvalResolveDa3() {
        for (String cmd : new String[] {"train", "eval"}) {
            ResolvedModel m = ModelResolver.resolve(new ModelSource.Weights(MONO, null),
                    ModelResolver.Options.DEFAULT.da3Ready(cmd));
            assertEquals(ModelConfig.Family.DA3MONO, m.architecture().family());
            assertTrue(ModelResolver.Options.DEFAULT.da3Ready(cmd).da3Checkpoints());
        }
        assertTrue(!ModelResolver.Options.DEFAULT.da3Ready("predict").da3Checkpoints());
    }

    /**
     * lora sweep and lora benchmark run Depth Anything 3 (issue 26): a run description with the
     * da3mono-large preset passes the resolver's DA3 gate and gets as far as its weights (here missing,
     * so that no ViT-L is built), where eval-completion is refused at the preset.
     */
    @Test
    void sweepAndBenchmarkResolveDa3RunDescriptions() {
        RunConfig cfg = new RunConfig().with("model",
                ModelSection.of("no-such-da3-weights.safetensors", "da3mono-large"));
        for (String cmd : new String[] {"sweep", "benchmark"}) {
            LoraException e = assertThrows(LoraException.class, () -> ModelResolver.resolve(new ModelSource.Run(cfg),
                    ModelResolver.Options.DEFAULT.da3Ready(cmd)));
            assertTrue(e.getMessage().contains("base weights not found"), e.getMessage());
            ResolvedModel m = ModelResolver.resolve(new ModelSource.Weights(MONO, null),
                    ModelResolver.Options.DEFAULT.da3Ready(cmd));
            assertEquals(ModelConfig.Family.DA3MONO, m.architecture().family());
        }
        LoraException refused = assertThrows(LoraException.class, () -> ModelResolver.resolve(new ModelSource.Run(cfg),
                ModelResolver.Options.DEFAULT.command("eval-completion")));
        assertTrue(refused.getMessage().contains("model.preset da3mono-large: da3mono is a Depth Anything 3"),
                refused.getMessage());
    }
}
