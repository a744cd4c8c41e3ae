package com.loratool.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The run description cannot change once loaded: every field of RunConfig and of every section
 * (model, data and its nested records, lora, train) is final, and every list or map it holds
 * refuses changes. Changed copies come only from {@code with(key, value)} ({@link Section#with}),
 * which binds and checks the copy as the loader does.
 */
class ImmutableRunConfigTest {
    @TempDir
    Path dir;

    /** Every key that holds a list or map is set, so none is checked only as its default. */
    private RunConfig loaded() throws Exception {
        Path f = dir.resolve("run.yaml");
        Files.writeString(f, """
                model: {weights: random, preset: vits}
                data:
                  root: data-samples
                  size: [84, 140]
                  strip_suffixes: [_color, _depth]
                  augment: {hflip: true}
                  cache: {memory: false, disk_dir: cache}
                lora:
                  r: 4
                  targets: [qkv, fc2]
                  rank_pattern: {blocks.0.attn.qkv: 8}
                  alpha_pattern: {fc2: 16}
                train:
                  betas: [0.8, 0.99]
                  devices: [0, 1]
                  device: gpu
                """);
        return ConfigLoader.load(f, List.of());
    }

    @Test
    void everyFieldOfALoadedRunIsFinalAndEveryCollectionUnmodifiable() throws Exception {
        RunConfig c = loaded();
        List<String> checked = new ArrayList<>();
        walk(c, "", checked);
        for (String key : List.of("model.weights", "data.size", "data.strip_suffixes", "data.augment.hflip",
                "data.cache.disk_dir", "lora.targets", "lora.rank_pattern", "lora.alpha_pattern", "train.betas",
                "train.devices", "train.lr")) {
            assertTrue(checked.contains(key), key + " not reached: " + checked);
        }
        assertEquals(List.of(8), List.copyOf(c.lora.rankPattern().values()));
    }

    @Test
    void theDefaultsAndCopiedSectionsAreImmutableToo() throws Exception {
        walk(new RunConfig(), "", new ArrayList<>());
        List<String> targets = new ArrayList<>(List.of("qkv"));
        LoraConfig l = LoraConfig.defaults().with("targets", targets);
        targets.add("proj"); // the caller's list is not the section's
        assertEquals(List.of("qkv"), l.targets());
        assertEquals(8, l.r());
        walk(new RunConfig().with("lora", l), "", new ArrayList<>());
        walk(new RunConfig().with("data", DataConfig.defaults(dir).with("augment.hflip", true)), "", new ArrayList<>());
    }

    @Test
    void aCopyChangesOnlyItself() throws Exception {
        RunConfig c = loaded();
        RunConfig d = c.with(Map.of("train.batch_size", 1, "train.devices", List.of()));
        assertEquals(1, d.train.batchSize());
        assertEquals(4, c.train.batchSize());
        assertEquals(List.of(0, 1), c.train.devices());
        assertEquals(c.lora, d.lora);
        assertEquals(c.source, d.source);
        assertFalse(c.equals(d));
        assertEquals(c, c.with("train", c.train.with("seed", c.train.seed())).with("model", c.model.with("weights",
                c.model.weights())).with("lora", c.lora.with("r", c.lora.r())));
    }

    /** A copy goes through the section's own checks: there is no way around them. */
    @Test
    void aCopyIsCheckedAsAFileIs() throws Exception {
        RunConfig c = loaded();
        ConfigError e = assertThrows(ConfigError.class, () -> c.with("lora.alpha", Double.POSITIVE_INFINITY));
        assertEquals("lora.alpha", e.key());
        assertThrows(ConfigError.class, () -> c.with("train.lrr", 1.0));
        assertThrows(ConfigError.class, () -> c.with("data.augment.rotate_degrees", Double.NaN));
        // the size rule is one choice: setting one of size, scale, input_size unsets the others
        DataConfig scaled = c.data.with("scale", 10);
        assertEquals(null, scaled.size());
        assertEquals(10, scaled.scale());
        assertEquals(518, scaled.with("input_size", 518).inputSize());
    }

    /** Checks {@code o}'s instance fields, recursing into config types; {@code checked} gets each dotted key. */
    private static void walk(Object o, String prefix, List<String> checked) throws IllegalAccessException {
        for (Field f : o.getClass().getDeclaredFields()) {
            if (Modifier.isStatic(f.getModifiers())) {
                continue;
            }
            String key = prefix + snake(f.getName());
            assertTrue(Modifier.isFinal(f.getModifiers()), o.getClass().getSimpleName() + "." + f.getName()
                    + " is not final");
            f.setAccessible(true);
            Object v = f.get(o);
            checked.add(key);
            if (v instanceof List<?> list) {
                assertThrows(UnsupportedOperationException.class, () -> addTo(list), key + " can be added to");
                if (!list.isEmpty()) {
                    assertThrows(UnsupportedOperationException.class, () -> list.remove(0), key + " can be removed from");
                }
            } else if (v instanceof Map<?, ?> map) {
                assertThrows(UnsupportedOperationException.class, () -> putIn(map), key + " can be put in");
                assertThrows(UnsupportedOperationException.class, map::clear, key + " can be cleared");
            } else if (v != null && v.getClass().getPackage() == RunConfig.class.getPackage()) {
                walk(v, key + ".", checked);
            }
        }
    }

    @SuppressWarnings("unchecked")
    private static void addTo(List<?> list) {
        ((List<Object>) list).add(null);
    }

    @SuppressWarnings("unchecked")
    private static void putIn(Map<?, ?> map) {
        ((Map<Object, Object>) map).put("x", null);
    }

    private static String snake(String camel) {
        return camel.replaceAll("([A-Z])", "_$1").toLowerCase();
    }
}
