package com.loratool.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.loratool.io.Json;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The resolved run description: written whole, read back equal, found from a checkpoint anywhere. */
class RunConfigTest {
    @TempDir
    Path dir;

    static List<Path> shippedConfigs() throws Exception {
        try (Stream<Path> s = Files.list(Path.of("configs"))) {
            return s.filter(p -> p.toString().endsWith(".yaml"))
                    .filter(p -> !p.getFileName().toString().startsWith("tiny-model"))
                    .sorted().toList();
        }
    }

    static void keys(JsonNode n, String prefix, List<String> out) {
        for (Iterator<Map.Entry<String, JsonNode>> it = n.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            out.add(prefix + e.getKey());
            if (e.getValue().isObject()) {
                keys(e.getValue(), prefix + e.getKey() + ".", out);
            }
        }
    }

    @Test
    void shippedConfigsRoundTripWithEveryEffectiveKey() throws Exception {
        List<Path> configs = shippedConfigs();
        assertTrue(configs.size() >= 2, configs.toString());
        for (Path f : configs) {
            RunConfig c = ConfigLoader.load(f, List.of());
            Path out = dir.resolve(f.getFileName());
            ConfigLoader.save(c, out);
            RunConfig back = ConfigLoader.load(out, List.of());
            assertEquals(c, back, f.toString());

            List<String> written = new ArrayList<>();
            keys(Json.YAML.readTree(out.toFile()), "", written);
            // every key of every section, defaults included (e.g. data.depth_scale, data.augment.hflip, train.keep_last)
            for (String k : List.of("model.weights", "model.preset", "model.config", "data.root", "data.images_dir",
                    "data.depth_dir", "data.strip_suffixes", "data.size", "data.scale", "data.input_size",
                    "data.image_interpolation", "data.depth_resize", "data.val_fraction", "data.max_train_images",
                    "data.seed", "data.augment.hflip", "data.augment.rotate_degrees", "data.augment.color_jitter",
                    "data.cache.memory", "data.cache.disk_dir", "data.strict", "data.depth_units", "data.depth_scale",
                    "data.npz_key", "lora.r", "lora.alpha", "lora.dropout", "lora.targets", "lora.rslora", "lora.init",
                    "lora.head_convs", "train.lr", "train.seed", "train.keep_last", "train.output_dir")) {
                assertTrue(written.contains(k), f + ": " + k + " missing from " + written);
            }
            List<String> effective = new ArrayList<>();
            keys(c.tree(), "", effective);
            assertEquals(effective, written, f.toString());
        }
    }

    @Test
    void equalityCoversTheDataSection() throws Exception {
        RunConfig c = ConfigLoader.load(Path.of("configs/smoke.yaml"), List.of());
        assertNotEquals(c, c.with("data", c.data.with("scale", 3)));
        RunConfig copy = c.with("lora", c.lora.with("r", 16)); // a copy's sections are its own
        assertNotEquals(c, copy);
        assertEquals(4, c.lora.r());
        assertEquals(16, copy.lora.r());
    }

    @Test
    void runFolderLocatesRelativePathsFromElsewhere() throws Exception {
        Path project = dir.resolve("project");
        Path run = project.resolve("runs/x");
        Files.createDirectories(run.resolve("best"));
        Files.createDirectories(project.resolve("my-data-folder/images"));
        Files.writeString(project.resolve("arch.yaml"), Files.readString(Path.of("configs/tiny-model.yaml")));
        Files.writeString(run.resolve("config.yaml"), """
                model: {weights: random, config: arch.yaml}
                data: {root: my-data-folder, scale: 4}
                """);
        RunFolder rf = RunFolder.of(run.resolve("best"));
        assertEquals(run.toAbsolutePath().normalize(), rf.dir());
        assertEquals(project.resolve("my-data-folder").toAbsolutePath().normalize(),
                Path.of(rf.config().data.root()).toAbsolutePath().normalize());
        assertEquals(project.resolve("arch.yaml").toAbsolutePath().normalize(),
                Path.of(rf.config().model.config()).toAbsolutePath().normalize());
        assertEquals("random", rf.config().model.weights());
        assertEquals(4, rf.config().data.scale());
        assertEquals(run.resolve("split.json").toAbsolutePath().normalize(), rf.splitJson());
        RunFolder none = RunFolder.of(dir.resolve("elsewhere"));
        assertNull(none.dir());
        assertNull(none.config());
    }
}
