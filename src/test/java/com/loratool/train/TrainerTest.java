package com.loratool.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.loratool.LoraException;
import com.loratool.config.RunConfig;
import com.loratool.io.HostTensor;
import com.loratool.lora.LoraInjector;
import com.loratool.lora.LoraModel;
import com.loratool.model.DepthAnythingV2;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The training loop on the tiny fixture model with small synthetic samples (28 x 42). */
class TrainerTest {
    @TempDir
    Path dir;

    static RunConfig cfg(int epochs) {
        RunConfig c = new RunConfig();
        c.model.weights = "tiny";
        c.lora.r = 4;
        c.lora.targets = List.of("qkv", "fc2");
        c.lora.dropout = 0.1;
        c.train.epochs = epochs;
        c.train.batchSize = 2;
        c.train.lr = 5e-3;
        c.train.gradAccum = 2;
        c.train.schedule = "cosine";
        c.train.warmupSteps = 1;
        c.train.clipGradNorm = 1.0;
        c.train.keepLast = 2;
        c.train.gradMatchWeight = 0.5;
        return c;
    }

    static final TrainingData DATA = new TrainingData(TinyModels.samples(5, 28, 42, 1), TinyModels.samples(2, 28, 42, 2));

    /** Trains a fresh tiny model; returns the adapter tensors at the end. */
    static Map<String, HostTensor> train(RunConfig c, Path runDir, boolean resume, int stopAfter) {
        try (NDManager m = NDManager.newBaseManager()) {
            DepthAnythingV2 model = TinyModels.load("da2-tiny", m);
            try (LoraModel lm = LoraInjector.inject(model, c.lora, c.train.seed, m)) {
                int perForward = modelLeakPerForward(model, m);
                AtomicInteger forwards = new AtomicInteger();
                int arrays = m.getManagedArrays().size();
                new Trainer(c, lm, x -> {
                    forwards.incrementAndGet();
                    return model.forward(x);
                }, m, DATA, "tiny", "0", null, new Trainer.Options(runDir, resume, true, null, stopAfter)).run();
                // Whatever the model's own forward leaves behind is its business; the trainer adds nothing.
                assertEquals(arrays + forwards.get() * perForward, m.getManagedArrays().size(),
                        "arrays left in the model's manager by the training loop");
                return lm.adapterTensors();
            }
        }
    }

    /**
     * Arrays one forward pass leaves in the model's manager after warm-up (its per-size caches
     * are filled on first use); 0 for a leak-free model.
     */
    static int modelLeakPerForward(DepthAnythingV2 model, NDManager m) {
        int[] counts = new int[3];
        for (int i = 0; i < 3; i++) {
            for (int b = 1; b <= 2; b++) {
                try (NDManager s = m.newSubManager()) {
                    model.forward(s.zeros(new Shape(b, 3, 28, 42)));
                }
            }
            counts[i] = m.getManagedArrays().size();
        }
        int leak = (counts[2] - counts[1]) / 2;
        if (leak != 0) {
            System.err.println("note: DepthAnythingV2.forward leaves " + leak + " array(s) per call in the model's manager");
        }
        return leak;
    }

    @Test
    void onlyAdapterTensorsChange() {
        try (NDManager m = NDManager.newBaseManager()) {
            DepthAnythingV2 model = TinyModels.load("da2-tiny", m);
            Map<String, float[]> before = TinyModels.snapshot(model);
            RunConfig c = cfg(1);
            try (LoraModel lm = LoraInjector.inject(model, c.lora, 1, m)) {
                Map<String, HostTensor> initial = lm.adapterTensors();
                new Trainer(c, lm, model::forward, m, DATA, "tiny", "0", null,
                        new Trainer.Options(dir, false, true, null)).run();
                Map<String, HostTensor> after = lm.adapterTensors();
                for (String k : initial.keySet()) {
                    assertFalse(Arrays.equals(initial.get(k).data(), after.get(k).data()), k + " did not change");
                }
            }
            Map<String, float[]> now = TinyModels.snapshot(model);
            for (String k : before.keySet()) {
                assertArrayEquals(before.get(k), now.get(k), k + " (base) changed");
            }
        }
    }

    @Test
    void resumedRunEndsWithTheSameAdapters() throws Exception {
        Map<String, HostTensor> straight = train(cfg(3), dir.resolve("straight"), false, 0);
        train(cfg(3), dir.resolve("split"), false, 1); // "interrupted" after epoch 1
        assertTrue(Files.exists(dir.resolve("split/checkpoints/epoch-0001/optimizer.safetensors")));
        Map<String, HostTensor> resumed = train(cfg(3), dir.resolve("split"), true, 0);
        for (String k : straight.keySet()) {
            assertArrayEquals(straight.get(k).data(), resumed.get(k).data(), k);
        }
        List<String> csv = Files.readAllLines(dir.resolve("split/metrics.csv"));
        assertEquals(4, csv.size(), String.join("\n", csv));
        assertEquals(Files.readAllLines(dir.resolve("straight/metrics.csv")).get(3).split(",")[1], csv.get(3).split(",")[1]);
        // keep_last 2: epochs 2 and 3 remain, plus best/
        assertFalse(Files.exists(dir.resolve("split/checkpoints/epoch-0001")));
        assertTrue(Files.exists(dir.resolve("split/checkpoints/epoch-0003/adapter.safetensors")));
        assertTrue(Files.exists(dir.resolve("split/best/adapter_config.json")));
        assertTrue(Files.size(dir.resolve("split/loss.png")) > 1000);
    }

    @Test
    void nonFiniteLossStopsAndKeepsTheLastCheckpoint() {
        RunConfig c = cfg(3);
        try (NDManager m = NDManager.newBaseManager()) {
            DepthAnythingV2 model = TinyModels.load("da2-tiny", m);
            AtomicInteger calls = new AtomicInteger();
            int perEpoch = 3 + 1; // 3 training batches + 1 validation batch
            Trainer.DepthNetwork poisoned = x -> calls.incrementAndGet() > perEpoch
                    ? model.forward(x).mul(Float.NaN) : model.forward(x);
            try (LoraModel lm = LoraInjector.inject(model, c.lora, 1, m)) {
                LoraException e = assertThrows(LoraException.class, () -> new Trainer(c, lm, poisoned, m, DATA, "tiny",
                        "0", null, new Trainer.Options(dir, false, true, null)).run());
                assertTrue(e.getMessage().startsWith("epoch 2, images 1-2: loss is NaN"), e.getMessage());
                assertTrue(e.getMessage().contains("epoch-0001"), e.getMessage());
            }
        }
        assertTrue(Files.exists(dir.resolve("checkpoints/epoch-0001/adapter.safetensors")));
        assertFalse(Files.exists(dir.resolve("checkpoints/epoch-0002")));
    }
}
