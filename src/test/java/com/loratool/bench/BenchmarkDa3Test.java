package com.loratool.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.loratool.cli.Main;
import com.loratool.config.RunConfig;
import com.loratool.config.TrainSection;
import com.loratool.model.Fixtures;
import com.loratool.model.ModelConfig;
import com.loratool.train.loss.Da3MetricLoss;
import com.loratool.train.loss.DepthSsiLoss;
import com.loratool.train.loss.MetricSiLogLoss;
import com.loratool.train.loss.SiLogLoss;
import com.loratool.train.loss.SsiLoss;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code lora benchmark} on Depth Anything 3 (issue 26): the tiny DA3 fixtures' architectures through
 * a config (what {@code arch=da3mono-large} runs at full size: the same module tree and loss), trained
 * with the loss of each model's kind.
 */
class BenchmarkDa3Test {
    @TempDir
    Path tmp;

    /** The loss of a combination follows its architecture's kind; the config's where it suits. */
    @Test
    void eachArchitectureTrainsWithALossOfItsKind() {
        TrainSection ssi = new RunConfig().train; // the default loss: ssi
        BenchSettings s = new BenchSettings("x", 1, 28, 42, 0, 1, List.of("qkv"), 2);
        assertInstanceOf(SsiLoss.class, ModelWorkloads.loss(ssi, ModelConfig.preset("vits"), s));
        assertInstanceOf(DepthSsiLoss.class, ModelWorkloads.loss(ssi, ModelConfig.preset("da3mono-large"), s));
        assertInstanceOf(MetricSiLogLoss.class, ModelWorkloads.loss(ssi, ModelConfig.preset("vits-metric-indoor"), s));
        Da3MetricLoss metric = assertInstanceOf(Da3MetricLoss.class,
                ModelWorkloads.loss(ssi, ModelConfig.preset("da3metric-large"), s));
        // the synthetic camera: focal = the image width (42 px) at the synthetic size
        assertEquals(42, metric.focal(28, 42), 1e-9);
        TrainSection silog = ssi.with("loss", "silog");
        assertInstanceOf(SiLogLoss.class, ModelWorkloads.loss(silog, ModelConfig.preset("vits"), s));
        assertEquals(TrainSection.Loss.ssi, ssi.loss());
    }

    /**
     * Both DA3 fixtures train and infer in the benchmark; LoRA r 2 on qkv of 4 blocks of width 48:
     * 4 x 2 x (48 + 3 x 48) = 1,536 trainable values.
     */
    @Test
    void da3MonoAndMetricFixturesAreTimed() throws Exception {
        for (String fixture : new String[] {"da3-tiny-mono", "da3-tiny-metric"}) {
            Path config = tmp.resolve(fixture + ".yaml");
            Files.writeString(config, "model:\n  weights: " + Fixtures.shared(fixture).resolve("model.safetensors")
                    + "\ndata:\n  root: data-samples\nlora:\n  r: 2\n  alpha: 2\n  targets: [qkv]\ntrain:\n  loss: ssi\n");
            Path out = tmp.resolve(fixture);
            CommandLine cl = Main.commandLine();
            StringWriter err = new StringWriter();
            cl.setErr(new PrintWriter(err));
            cl.setOut(new PrintWriter(new StringWriter()));
            PrintStream oldErr = System.err;
            System.setErr(new PrintStream(new ByteArrayOutputStream(), true));
            int rc;
            try {
                rc = cl.execute("benchmark", "--config", config.toString(), "--device", "cpu", "--threads", "1",
                        "--grid", "images=2; batch=2; size=28x42", "--epochs", "4", "--measure-epochs", "1",
                        "--output", out.toString());
            } finally {
                System.setErr(oldErr);
            }
            assertEquals(0, rc, fixture + ": " + err);
            JsonNode r = new ObjectMapper().readTree(out.resolve("results.json").toFile()).get("results").get(0);
            assertEquals("config", r.get("arch").asText());
            assertEquals(1536, r.get("trainable_params").asLong(), fixture);
            assertTrue(r.get("epoch_s").asDouble() > 0 && r.get("infer_images_per_s").asDouble() > 0, r.toString());
        }
    }
}
