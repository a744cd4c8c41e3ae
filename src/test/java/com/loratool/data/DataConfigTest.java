package com.loratool.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.exc.ValueInstantiationException;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.loratool.config.DataConfig;
import org.junit.jupiter.api.Test;

class DataConfigTest {
    static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

    @Test
    void bindsSnakeCaseYamlWithDefaults() throws Exception {
        DataConfig c = YAML.readValue("""
                root: data-samples
                scale: 10
                val_fraction: 0.25
                max_train_images: 11
                seed: 3
                augment: {hflip: true, rotate_degrees: 5}
                cache: {disk_dir: /tmp/c}
                depth_units: m
                depth_scale: 0.001
                """, DataConfig.class);
        assertEquals(10, c.scale());
        assertNull(c.inputSize());
        assertEquals(0.25, c.valFraction());
        assertEquals(11, c.maxTrainImages());
        assertEquals(3L, c.seed());
        assertTrue(c.augment().hflip());
        assertEquals(0.0, c.augment().colorJitter());
        assertTrue(c.cache().memory());
        assertEquals("/tmp/c", c.cache().diskDir());
        assertEquals(1.0, c.rawToMm(), 1e-12);
        assertEquals("images", c.imagesDir());
        assertEquals("cubic", c.imageInterpolation());
        assertEquals("nearest", c.depthResize());

        DataConfig d = YAML.readValue("root: x\n", DataConfig.class);
        assertEquals(518, d.inputSize());
        assertEquals(0.2, d.valFraction());
        assertTrue(!d.augment().enabled());
    }

    @Test
    void rejectsConflictsAndBadValues() {
        Exception e = assertThrows(ValueInstantiationException.class,
                () -> YAML.readValue("root: x\nscale: 10\nsize: [84, 140]\n", DataConfig.class));
        assertTrue(e.getMessage().contains("only one of size, scale and input_size"), e.getMessage());
        assertThrows(Exception.class, () -> YAML.readValue("root: x\nsize: [85, 140]\n", DataConfig.class));
        assertThrows(Exception.class, () -> YAML.readValue("root: x\nval_fractoin: 0.3\n", DataConfig.class));
        assertThrows(Exception.class, () -> YAML.readValue("root: x\ndepth_resize: cubic\n", DataConfig.class));
    }
}
