package com.loratool.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import com.loratool.config.ConfigLoader;
import com.loratool.config.RunConfig;
import com.loratool.config.Sizing;
import com.loratool.lora.LoraInjector;
import com.loratool.lora.LoraModel;
import com.loratool.model.DepthAnythingV2;
import com.loratool.model.MemoryCheck;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The training memory check counts the optimiser's arrays of every trained value, train_modules included. */
class TrainingMemoryTest {
    private static long cost(List<String> sets) {
        Path fixture = TinyModels.dir("da2-tiny-pretrained");
        ArrayList<String> all = new ArrayList<>(List.of(
                "model.weights=" + fixture.resolve("weights.pth"), "model.config=" + fixture.resolve("model.yaml")));
        all.addAll(sets);
        RunConfig cfg = ConfigLoader.load(Path.of("configs/smoke-pretrained.yaml"), all);
        try (NDManager m = NDManager.newBaseManager()) {
            DepthAnythingV2 model = TinyModels.load("da2-tiny-pretrained", m);
            try (LoraModel lora = LoraInjector.inject(model, cfg.lora, 0, m)) {
                MemoryCheck.Cost c = TrainRun.memoryCost(model.config(), cfg.train.batchSize(), lora);
                return c.bytes(480, 640, new Sizing.Size(84, 140));
            }
        }
    }

    @Test
    void aFullyTrainedHeadAddsItsGradientsAndAdamMoments() {
        long adaptersOnly = cost(List.of("lora.targets=[qkv]"));
        long withHead = cost(List.of("lora.targets=[qkv]", "lora.train_modules=[depth_head]"));
        long headValues = TinyModels.stateDict("da2-tiny-pretrained").entrySet().stream()
                .filter(e -> e.getKey().startsWith("depth_head.")).mapToLong(e -> e.getValue().data().length).sum();
        assertTrue(headValues > 10_000, "head values " + headValues);
        assertEquals(72 * headValues, withHead - adaptersOnly);
    }
}
