package com.loratool.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.loratool.LoraException;
import com.loratool.config.RunConfig;
import com.loratool.config.TrainSection;
import com.loratool.io.HostTensor;
import com.loratool.lora.AdapterConfig;
import com.loratool.lora.LoraInjector;
import com.loratool.lora.LoraModel;
import com.loratool.model.DepthAnythingV2;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Issue 14, part 6: validation faults and checkpoint leftovers. */
class TrainerFaultsTest {
    @TempDir
    Path dir;

    @Test
    void nanValidationLossStopsTheRun() {
        RunConfig c = TrainerTest.cfg(3);
        try (NDManager m = NDManager.newBaseManager()) {
            DepthAnythingV2 model = TinyModels.load("da2-tiny", m);
            AtomicInteger calls = new AtomicInteger();
            int perEpoch = 3 + 1; // 3 training batches + 1 validation batch
            // epoch 2's validation forward gives NaN; training forwards stay finite
            Trainer.DepthNetwork poisoned = x -> calls.incrementAndGet() == 2 * perEpoch
                    ? model.forward(x).mul(Float.NaN) : model.forward(x);
            try (LoraModel lm = LoraInjector.inject(model, c.lora, 1, m)) {
                LoraException e = assertThrows(LoraException.class, () -> TrainerTest.inFolder(new Trainer(c.train, lm, poisoned, m,
                        TrainerTest.DATA, TrainerTest.loss(c, model)), c, lm, dir, false).run());
                assertTrue(e.getMessage().startsWith("epoch 2: validation loss is NaN"), e.getMessage());
                assertTrue(e.getMessage().contains("epoch-0001"), e.getMessage());
            }
        }
        assertTrue(Files.exists(dir.resolve("checkpoints/epoch-0001/trainer_state.json")));
        assertFalse(Files.exists(dir.resolve("checkpoints/epoch-0002")));
    }

    @Test
    void withoutValidationImagesBestIsChosenByTheTrainingLossAndSaysSo() throws Exception {
        RunConfig c = TrainerTest.cfg(2).with("train.val_metric", "delta1");
        TrainingData noVal = new TrainingData(TrainerTest.DATA.train(), List.of(), 1);
        Trainer.Result r;
        try (NDManager m = NDManager.newBaseManager()) {
            DepthAnythingV2 model = TinyModels.load("da2-tiny", m);
            try (LoraModel lm = LoraInjector.inject(model, c.lora, 1, m)) {
                r = TrainerTest.inFolder(new Trainer(c.train, lm, model::forward, m, noVal, TrainerTest.loss(c, model)),
                        c, lm, dir, false).run();
            }
        }
        JsonNode best = new ObjectMapper().readTree(dir.resolve("best/best.json").toFile());
        assertEquals("train_loss", best.get("metric").asText());
        // the training loss itself (positive), lower is better, not a negated delta1
        double firstLoss = r.rows().get(0).trainLoss();
        assertTrue(best.get("value").asDouble() > 0 && best.get("value").asDouble() <= firstLoss, best.toString());
        String log = Files.readString(dir.resolve("train.log"));
        assertFalse(log.contains("NaN"), log);
        assertTrue(log.contains("warning: no validation images"), log);
    }

    @Test
    void aFailedBestSaveLeavesNoBestTmp() {
        Checkpoints ck = new Checkpoints(dir, 2);
        AdapterConfig cfg = new AdapterConfig(null, null, null, null, null, null, null, 0);
        Map<String, HostTensor> none = Map.of();
        // an unserialisable value makes best.json fail after the adapter files were written (as a full disk would)
        assertThrows(LoraException.class, () -> ck.saveBest(cfg, none, Map.of("value", new Object())));
        assertFalse(Files.exists(dir.resolve("best.tmp")), "best.tmp left behind");
        assertFalse(Files.exists(dir.resolve("best")));
    }

    @Test
    void leftoversOfAKilledRunAreRemoved() throws Exception {
        Files.createDirectories(dir.resolve("best.tmp"));
        Files.createDirectories(dir.resolve("checkpoints/epoch-0001.tmp"));
        Files.createDirectories(dir.resolve("checkpoints/epoch-0002"));
        Files.writeString(dir.resolve("checkpoints/epoch-0002/adapter.safetensors"), "partial");
        Files.createDirectories(dir.resolve("checkpoints/epoch-0001"));
        Files.writeString(dir.resolve("checkpoints/epoch-0001/" + Checkpoints.STATE), "{}");
        assertEquals(3, new Checkpoints(dir, 2).removeLeftovers());
        assertFalse(Files.exists(dir.resolve("best.tmp")));
        assertFalse(Files.exists(dir.resolve("checkpoints/epoch-0001.tmp")));
        assertFalse(Files.exists(dir.resolve("checkpoints/epoch-0002")));
        assertTrue(Files.exists(dir.resolve("checkpoints/epoch-0001")), "a complete checkpoint stays");
    }
}
