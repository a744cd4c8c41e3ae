package com.loratool.train;

import com.loratool.train.loss.DepthLoss;
import ai.djl.ndarray.NDManager;
import com.loratool.config.LoraConfig;
import com.loratool.config.ModelSection;
import com.loratool.config.RunConfig;
import com.loratool.config.TrainSection;
import com.loratool.lora.LoraInjector;
import com.loratool.lora.LoraModel;
import com.loratool.model.Compute;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * Speed of the training loop against scripts/reference/peer_train.py (not a timed test; run by hand):
 * mvn -o test -Dtest=TrainSpeedBench -Dbench.train=qkv (or attention,mlp) -Dbench.threads=2 -Dbench.epochs=3
 * Same shapes as the peer: ViT-S, 11 random 84x140 images, batch 4, r=8, alpha 8, Adam 1e-4.
 */
@EnabledIfSystemProperty(named = "bench.train", matches = ".+")
class TrainSpeedBench {
    @Test
    void secondsPerEpoch() throws Exception {
        RunConfig c = new RunConfig(ModelSection.of(ModelSection.RANDOM, System.getProperty("bench.arch", "vits")), null,
                null, null).with(Map.of("lora.r", 8, "lora.alpha", 8,
                "lora.targets", Arrays.asList(System.getProperty("bench.train").split(",")),
                "train.epochs", Integer.getInteger("bench.epochs", 3), "train.batch_size", 4, "train.lr", 1e-4,
                "train.loss", System.getProperty("bench.loss", "mse")));
        Compute.setThreads(Integer.getInteger("bench.threads", 2));
        TrainingData data = new TrainingData(TinyModels.samples(11, 84, 140, 1), List.of(), 1);
        Path dir = Files.createTempDirectory("bench");
        try (NDManager m = NDManager.newBaseManager()) {
            TrainRun.Base base = TrainRun.loadBase(c, m);
            try (LoraModel lm = LoraInjector.inject(base.model(), c.lora, 1, m)) {
                Trainer.Result r = new Trainer(c.train, lm, base.model()::forward, m, data,
                        DepthLoss.fromConfig(c.train, base.config())).run();
                double[] secs = r.rows().stream().mapToDouble(MetricsCsv.Row::seconds).toArray();
                double[] later = Arrays.copyOfRange(secs, secs.length > 1 ? 1 : 0, secs.length);
                Arrays.sort(later);
                System.out.printf("BENCH targets=%s trainable=%d epoch_s=%s median_after_first=%.3f images/s=%.3f%n",
                        c.lora.targets(), lm.trainableCount(), Arrays.toString(secs), later[later.length / 2],
                        11 / later[later.length / 2]);
            }
        }
        Checkpoints.deleteTree(dir);
    }
}
