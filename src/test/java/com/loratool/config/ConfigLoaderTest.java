package com.loratool.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.loratool.LoraException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigLoaderTest {
    @TempDir
    Path dir;

    static final String BASE = """
            model:
              weights: w.pth
              preset: vits
            data:
              root: data-samples
            lora:
              r: 4
              targets: [qkv, proj]
            train:
              lr: 3e-4
              betas: [0.8, 0.99]
              epochs: 2
            """;

    Path write(String text) throws Exception {
        Path f = dir.resolve("c.yaml");
        Files.writeString(f, text);
        return f;
    }

    @Test
    void readsSectionsAndKeepsDefaults() throws Exception {
        RunConfig c = ConfigLoader.load(write(BASE), List.of());
        assertEquals(4, c.lora.r());
        assertEquals(List.of("qkv", "proj"), c.lora.targets());
        assertEquals(3e-4, c.train.lr(), 0);
        assertEquals(0.8, c.train.betas().get(0), 0);
        assertEquals(4, c.train.batchSize()); // default
        assertEquals(TrainSection.Loss.ssi, c.train.loss());
        assertEquals("data-samples", c.data.root());
        assertEquals("c", c.runName());
    }

    @Test
    void unknownKeyNamesTheClosestValidOne() throws Exception {
        LoraException e = assertThrows(LoraException.class,
                () -> ConfigLoader.load(write(BASE.replace("  lr: 3e-4", "  lrr: 3e-4")), List.of()));
        assertTrue(e.getMessage().endsWith("train.lrr: unknown key, did you mean lr?"), e.getMessage());
        e = assertThrows(LoraException.class,
                () -> ConfigLoader.load(write(BASE.replace("lora:", "loar:")), List.of()));
        assertTrue(e.getMessage().contains("loar: unknown key, did you mean lora?"), e.getMessage());
    }

    @Test
    void setOverridesValuesAndChecksKeys() throws Exception {
        RunConfig c = ConfigLoader.load(write(BASE), List.of("train.lr=1e-3", "lora.targets=[mlp]", "train.run_name=x"));
        assertEquals(1e-3, c.train.lr(), 0);
        assertEquals(List.of("mlp"), c.lora.targets());
        assertEquals("x", c.runName());
        LoraException e = assertThrows(LoraException.class,
                () -> ConfigLoader.load(write(BASE), List.of("train.epoch=3")));
        assertEquals("--set train.epoch=3: train.epoch: unknown key, did you mean epochs?", e.getMessage());
        e = assertThrows(LoraException.class, () -> ConfigLoader.load(write(BASE), List.of("train.epochs=many")));
        assertTrue(e.getMessage().contains("train.epochs: wrong type of value (expected an integer)"), e.getMessage());
    }

    @Test
    void badValuesAreOneLineErrors() throws Exception {
        Path f = write(BASE);
        assertThrows(LoraException.class, () -> ConfigLoader.load(f, List.of("train.lr=-1")));
        LoraException e = assertThrows(LoraException.class, () -> ConfigLoader.load(f, List.of("train.optimizer=adamm")));
        assertTrue(e.getMessage().contains("did you mean adam"), e.getMessage());
        assertThrows(LoraException.class, () -> ConfigLoader.load(f, List.of("lora.r=0")));
        assertThrows(LoraException.class, () -> ConfigLoader.load(dir.resolve("missing.yaml"), List.of()));
        assertThrows(LoraException.class, () -> ConfigLoader.load(write("model: [unclosed"), List.of()));
    }

    @Test
    void resolvedConfigRoundTrips() throws Exception {
        RunConfig c = ConfigLoader.load(write(BASE), List.of("train.seed=7"));
        Path out = dir.resolve("resolved.yaml");
        ConfigLoader.save(c, out);
        String text = Files.readString(out);
        assertTrue(text.contains("weight_decay: 0.0"), text);
        RunConfig again = ConfigLoader.load(out, List.of());
        assertEquals(7, again.train.seed());
        assertEquals(c.toYaml(), again.toYaml());
    }
}
