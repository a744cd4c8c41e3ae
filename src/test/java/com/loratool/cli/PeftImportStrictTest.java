package com.loratool.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import com.loratool.io.HostTensor;
import com.loratool.io.Safetensors;
import com.loratool.lora.AdapterCheckpoint;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 27, class 4 (and class 6's JSON bullets): {@code lora import} reads PEFT's
 * adapter_config.json strictly. Every hostile value below was imported before (alpha 24 or 3 from
 * a string, null, object or true; r 4294967300 or 4.7 as 4; target modules and layers that do not
 * exist ignored, the tensors present adapted all the same; NaN as JSON-parser jargon); now each is
 * one line naming the file and the key, exit 2, and nothing is written.
 */
class PeftImportStrictTest {
    @TempDir
    Path dir;

    private static final String CONFIG = """
            {
              "peft_type": "LORA",
              "task_type": null,
              "r": 4,
              "lora_alpha": 8,
              "lora_dropout": 0.0,
              "use_rslora": false,
              "use_dora": false,
              "bias": "none",
              "fan_in_fan_out": false,
              "target_modules": ["query", "value"],
              "layers_to_transform": [0, 1],
              "layers_pattern": null,
              "rank_pattern": {},
              "alpha_pattern": {},
              "modules_to_save": null
            }
            """;

    /** A PEFT folder for the tiny model (dim 48): query and value adapters of layers 0 and 1, r 4. */
    private Path peft(String config) throws Exception {
        Random r = new Random(3);
        Map<String, HostTensor> t = new LinkedHashMap<>();
        for (int layer = 0; layer < 2; layer++) {
            for (String m : new String[] {"query", "value"}) {
                String p = "base_model.model.backbone.encoder.layer." + layer + ".attention.attention." + m;
                t.put(p + ".lora_A.weight", ExportImportCommandTest.rand(r, 4, 48));
                t.put(p + ".lora_B.weight", ExportImportCommandTest.rand(r, 48, 4));
            }
        }
        Path peft = dir.resolve("peft");
        Files.createDirectories(peft);
        Safetensors.write(peft.resolve("adapter_model.safetensors"), t, Map.of("format", "pt"));
        Files.writeString(peft.resolve("adapter_config.json"), config);
        return peft;
    }

    private TrainCommandTest.Run importPeft(Path peft, Path out) {
        StringWriter err = new StringWriter();
        int code = ExportImportCommandTest.run(err, "import", "--peft", peft.toString(), "--weights",
                ExportImportCommandTest.WEIGHTS.toString(), "--output", out.toString());
        return new TrainCommandTest.Run(code, "", err.toString());
    }

    /** Imports the folder with {@code from} replaced by {@code to} in its config; returns the one error line. */
    private String refused(String from, String to) throws Exception {
        String changed = CONFIG.replace(from, to);
        assertFalse(changed.equals(CONFIG), "no " + from);
        Path peft = peft(changed);
        Path out = dir.resolve("imported");
        TrainCommandTest.Run r = importPeft(peft, out);
        String e = r.err().trim();
        assertEquals(2, r.code(), e);
        assertEquals(1, e.lines().count(), e);
        assertFalse(Files.exists(out.resolve(AdapterCheckpoint.WEIGHTS)), "a refused import wrote " + out);
        String prefix = "error: " + peft.resolve("adapter_config.json") + ": ";
        assertEquals(prefix, e.substring(0, Math.min(e.length(), prefix.length())), e);
        return e.substring(prefix.length());
    }

    @Test
    void theCleanAdapterImports() throws Exception {
        TrainCommandTest.Run r = importPeft(peft(CONFIG), dir.resolve("imported"));
        assertEquals(0, r.code(), r.err());
        AdapterCheckpoint c = AdapterCheckpoint.load(dir.resolve("imported"));
        assertEquals(8.0 / 4, c.scaling().value(), 1e-12);
        assertEquals(4, c.adapters().layers().size()); // q and v slices of layers 0 and 1
    }

    @Test
    void alphaAndRankMustBeNumbersOfTheirType() throws Exception {
        String alpha = "\"lora_alpha\": 8";
        assertEquals("lora_alpha: must be a number > 0, got \"24\"", refused(alpha, "\"lora_alpha\": \"24\""));
        assertEquals("lora_alpha: must be a number > 0, got null", refused(alpha, "\"lora_alpha\": null"));
        assertEquals("lora_alpha: must be a number > 0, got {\"a\":3}", refused(alpha, "\"lora_alpha\": {\"a\": 3}"));
        assertEquals("lora_alpha: must be a number > 0, got true", refused(alpha, "\"lora_alpha\": true"));
        assertEquals("lora_alpha: must be a number > 0, got -4", refused(alpha, "\"lora_alpha\": -4"));
        assertEquals("lora_alpha: must be a finite number, got NaN", refused(alpha, "\"lora_alpha\": NaN"));
        assertEquals("r: must be an integer from 1 to 8192, got 4294967300", refused("\"r\": 4", "\"r\": 4294967300"));
        assertEquals("r: must be an integer from 1 to 8192, got 4.7", refused("\"r\": 4", "\"r\": 4.7"));
        assertEquals("use_rslora: must be true or false, got \"no\"",
                refused("\"use_rslora\": false", "\"use_rslora\": \"no\""));
        assertEquals("lora_dropout: must be a finite number, got Infinity",
                refused("\"lora_dropout\": 0.0", "\"lora_dropout\": Infinity"));
        assertEquals("rank_pattern.value: must be an integer from 1 to 8192, got \"4\"",
                refused("\"rank_pattern\": {}", "\"rank_pattern\": {\"value\": \"4\"}"));
    }

    @Test
    void targetModulesAndLayersAreMatchedAgainstTheModelAndTheTensors() throws Exception {
        String targets = "\"target_modules\": [\"query\", \"value\"]";
        assertEquals("target_modules: 'no_such_module' matches no linear or convolution layer of the model",
                refused(targets, "\"target_modules\": [\"query\", \"value\", \"no_such_module\"]"));
        assertEquals("target_modules: 'quary' matches no linear or convolution layer of the model (did you mean query?)",
                refused(targets, "\"target_modules\": [\"quary\", \"value\"]"));
        assertEquals("target_modules: missing (PEFT lists the adapted modules there)",
                refused(targets, "\"target_modules\": null"));
        assertEquals("target_modules: must be a regular expression or a list of module names, got 3",
                refused(targets, "\"target_modules\": 3"));
        // the tensors present are exactly the modules the config selects
        assertEquals("target_modules with layers_to_transform [0]: does not select"
                + " backbone.encoder.layer.1.attention.attention.query, but adapter_model.safetensors holds an adapter"
                + " for it", refused("\"layers_to_transform\": [0, 1]", "\"layers_to_transform\": [0]"));
        assertEquals("target_modules with layers_to_transform [0, 1, 2]: selects"
                + " backbone.encoder.layer.2.attention.attention.query, but adapter_model.safetensors holds no adapter"
                + " for it", refused("\"layers_to_transform\": [0, 1]", "\"layers_to_transform\": [0, 1, 2]"));
        assertEquals("layers_to_transform: the model has no layer 7 (layers 0 to 3)",
                refused("\"layers_to_transform\": [0, 1]", "\"layers_to_transform\": [0, 1, 7]"));
        assertEquals("layers_to_transform: must be an integer >= 0 or a list of them, got \"0\"",
                refused("\"layers_to_transform\": [0, 1]", "\"layers_to_transform\": \"0\""));
        assertEquals("target_modules: selects backbone.encoder.layer.2.attention.attention.query, but"
                + " adapter_model.safetensors holds no adapter for it",
                refused("\"layers_to_transform\": [0, 1]", "\"layers_to_transform\": null"));
    }
}
