package com.loratool.train;

import com.loratool.train.loss.DepthLoss;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import com.loratool.LoraException;
import com.loratool.config.LoraConfig;
import com.loratool.config.ModelSection;
import com.loratool.config.RunConfig;
import com.loratool.config.TrainSection;
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
        LoraConfig l = LoraConfig.defaults().with(Map.of("r", 4, "targets", List.of("qkv", "fc2"), "dropout", 0.1));
        TrainSection t = TrainSection.defaults().with(Map.of("epochs", epochs, "batch_size", 2, "lr", 5e-3,
                "grad_accum", 2, "schedule", "cosine", "warmup_steps", 1, "clip_grad_norm", 1.0, "keep_last", 2,
                "grad_match_weight", 0.5));
        return new RunConfig(ModelSection.of("tiny", null), null, l, t);
    }

    static final TrainingData DATA = new TrainingData(TinyModels.samples(5, 28, 42, 1), TinyModels.samples(2, 28, 42, 2), 1);

    static final Trainer.BaseWeights BASE = new Trainer.BaseWeights("tiny", "0", null);

    static Trainer trainer(RunConfig c, LoraModel lm, Trainer.DepthNetwork net, NDManager m, Path runDir, boolean resume) {
        return inFolder(new Trainer(c.train, lm, net, m, DATA, loss(c, lm.base() instanceof DepthAnythingV2 d ? d : null)),
                c, lm, runDir, resume);
    }

    /** {@code t} with the listeners of a run folder, as lora train wires them (the log file stays open: test only). */
    static Trainer inFolder(Trainer t, RunConfig c, LoraModel lm, Path runDir, boolean resume) {
        return new RunFolderListeners(runDir, c, lm, BASE, resume, true, null).attach(t, resume);
    }

    /** The run's loss for {@code model}'s kind (null: a relative model). */
    static DepthLoss loss(RunConfig c, DepthAnythingV2 model) {
        return DepthLoss.fromConfig(c.train, model == null ? null : model.config());
    }

    /** Ends the run after {@code epoch} as if it had been interrupted (tests of --resume). */
    static final class StopAfter implements TrainingListener {
        private final int epoch;
        private boolean stop;

        StopAfter(int epoch) {
            this.epoch = epoch;
        }

        @Override
        public void onEpochEnd(EpochEnd end) {
            stop = epoch > 0 && end.epoch() >= epoch;
        }

        @Override
        public boolean stopRequested() {
            return stop;
        }
    }

    /**
     * Counts the arrays of the model's (base) manager after every micro-batch and epoch. The
     * first epoch fills the model's per-size caches; after it, the count may not grow at all.
     */
    static final class ArrayCounts implements TrainingListener {
        final NDManager m;
        int afterFirstEpoch = -1;
        int highestLater = -1;
        String where = "";

        ArrayCounts(NDManager m) {
            this.m = m;
        }

        private void sample(String at) {
            int n = m.getManagedArrays().size();
            if (afterFirstEpoch >= 0 && n > highestLater) {
                highestLater = n;
                where = at;
            }
        }

        @Override
        public void onTrainingBatch(int images, double meanLoss) {
            sample("after image " + images);
        }

        @Override
        public void onEpochEnd(EpochEnd end) {
            if (afterFirstEpoch < 0) {
                afterFirstEpoch = m.getManagedArrays().size();
            } else {
                sample("after epoch " + end.epoch());
            }
        }

        /** Fails when the base manager held more arrays at any later point than after the first epoch. */
        void assertNoGrowth() {
            assertTrue(highestLater >= 0, "need at least two epochs to measure");
            assertTrue(highestLater <= afterFirstEpoch, "arrays in the model's manager grew from " + afterFirstEpoch
                    + " after epoch 1 to " + highestLater + " " + where);
        }
    }

    /** Trains a fresh tiny model; checks the model's manager does not grow; returns the adapter tensors. */
    static Map<String, HostTensor> train(RunConfig c, Path runDir, boolean resume, int stopAfter) {
        try (NDManager m = NDManager.newBaseManager()) {
            DepthAnythingV2 model = TinyModels.load("da2-tiny", m);
            try (LoraModel lm = LoraInjector.inject(model, c.lora, c.train.seed(), m)) {
                ArrayCounts counts = new ArrayCounts(m);
                trainer(c, lm, model::forward, m, runDir, resume).addListener(counts).addListener(new StopAfter(stopAfter))
                        .run();
                if (c.train.epochs() - (resume ? 1 : 0) >= 2 && stopAfter == 0) {
                    counts.assertNoGrowth();
                }
                return lm.adapterTensors();
            }
        }
    }

    @Test
    void theArrayCountCheckCatchesALeakingNetwork() {
        RunConfig c = cfg(3);
        try (NDManager m = NDManager.newBaseManager()) {
            DepthAnythingV2 model = TinyModels.load("da2-tiny", m);
            try (LoraModel lm = LoraInjector.inject(model, c.lora, c.train.seed(), m)) {
                ArrayCounts counts = new ArrayCounts(m);
                // a test double that leaves one array in the model's manager per forward pass
                Trainer.DepthNetwork leaking = x -> {
                    m.create(new float[] {1});
                    return model.forward(x);
                };
                trainer(c, lm, leaking, m, dir, false).addListener(counts).run();
                AssertionError e = assertThrows(AssertionError.class, counts::assertNoGrowth);
                assertTrue(e.getMessage().contains("grew"), e.getMessage());
            }
        }
    }

    @Test
    void theModelsManagerDoesNotGrowOverEpochs() {
        train(cfg(3), dir.resolve("run"), false, 0);
    }

    @Test
    void onlyAdapterTensorsChange() {
        try (NDManager m = NDManager.newBaseManager()) {
            DepthAnythingV2 model = TinyModels.load("da2-tiny", m);
            Map<String, float[]> before = TinyModels.snapshot(model);
            RunConfig c = cfg(1);
            try (LoraModel lm = LoraInjector.inject(model, c.lora, 1, m)) {
                Map<String, HostTensor> initial = lm.adapterTensors();
                trainer(c, lm, model::forward, m, dir, false).run();
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
                LoraException e = assertThrows(LoraException.class, () -> trainer(c, lm, poisoned, m, dir, false).run());
                // 5 images, batch 2, grad_accum 2: 2 optimiser steps per epoch
                assertTrue(e.getMessage().startsWith("epoch 2, step 3, images 1-2: loss is NaN; training stopped"),
                        e.getMessage());
                assertTrue(e.getMessage().contains("epoch-0001"), e.getMessage());
            }
        }
        assertTrue(Files.exists(dir.resolve("checkpoints/epoch-0001/adapter.safetensors")));
        assertFalse(Files.exists(dir.resolve("checkpoints/epoch-0002")));
    }

    @Test
    void nonFiniteGradientStopsTheRunNamingTheTensor() throws Exception {
        RunConfig c = cfg(3);
        try (NDManager m = NDManager.newBaseManager()) {
            DepthAnythingV2 model = TinyModels.load("da2-tiny", m);
            AtomicInteger calls = new AtomicInteger();
            int perEpoch = 3 + 1;
            // finite value, non-finite gradient: p + sqrt(p - p) = p, but d sqrt(u)/du at u = 0 is infinite
            Trainer.DepthNetwork poisoned = x -> {
                NDArray p = model.forward(x);
                return calls.incrementAndGet() > perEpoch ? p.add(p.sub(p).sqrt()) : p;
            };
            try (LoraModel lm = LoraInjector.inject(model, c.lora, 1, m)) {
                LoraException e = assertThrows(LoraException.class, () -> trainer(c, lm, poisoned, m, dir, false).run());
                // detected at the end of the optimiser step (images 1-4: two micro-batches of 2), before it
                // changes the adapters; the gradients sum over the step, so the step is what is named
                assertTrue(e.getMessage().matches("epoch 2, step 3, images 1-4: gradient of \\S+\\.lora_[AB] is not finite"
                        + " \\(loss [0-9.]+\\); training stopped .*Last good checkpoint: .*epoch-0001"), e.getMessage());
                assertEquals(6, calls.get(), "the step's two micro-batches, no second try");
            }
            String log = Files.readString(dir.resolve("train.log"));
            assertTrue(log.contains("first non-finite gradient in "), log);
        }
        assertFalse(Files.exists(dir.resolve("checkpoints/epoch-0002")));
    }
}
