package com.loratool.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.loratool.LoraException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Hugging Face config.json → ModelConfig, with transformers' defaults for left-out keys. */
class HfConfigTest {
    @TempDir
    Path tmp;

    // the keys the official HF small checkpoints write (defaults left out, as save_pretrained does)
    static final String SMALL_BACKBONE = "\"backbone_config\": {\"model_type\": \"dinov2\", \"hidden_size\": 384, "
            + "\"image_size\": 518, \"num_attention_heads\": 6, \"out_features\": [\"stage3\", \"stage6\", \"stage9\", "
            + "\"stage12\"], \"out_indices\": [3, 6, 9, 12], \"reshape_hidden_states\": false}";

    private Path write(String json) throws Exception {
        return Files.writeString(tmp.resolve("config.json"), json);
    }

    @Test
    void smallRelativeAndMetricConfigsAreTheirPresets() throws Exception {
        assertEquals(ModelConfig.preset("vits"), HfConfig.read(write("{\"model_type\": \"depth_anything\", "
                + SMALL_BACKBONE + "}")));
        assertEquals(ModelConfig.preset("vits-metric-indoor"), HfConfig.read(write("{\"model_type\": "
                + "\"depth_anything\", " + SMALL_BACKBONE + ", \"depth_estimation_type\": \"metric\", \"max_depth\": 20}")));
        assertEquals(ModelConfig.preset("vits-metric-outdoor"), HfConfig.read(write("{" + SMALL_BACKBONE
                + ", \"depth_estimation_type\": \"metric\", \"max_depth\": 80.0}")));
        // transformers: a metric config without max_depth uses 1
        assertEquals(ModelConfig.preset("vits").metric(1.0), HfConfig.read(write("{" + SMALL_BACKBONE
                + ", \"depth_estimation_type\": \"metric\"}")));
    }

    @Test
    void largeFromOutFeaturesAndWidths() throws Exception {
        String large = "{\"backbone_config\": {\"hidden_size\": 1024, \"num_hidden_layers\": 24, "
                + "\"num_attention_heads\": 16, \"image_size\": 518, \"out_features\": [\"stage5\", \"stage12\", "
                + "\"stage18\", \"stage24\"]}, \"fusion_hidden_size\": 256, \"neck_hidden_sizes\": [256, 512, 1024, 1024], "
                + "\"reassemble_hidden_size\": 1024, \"depth_estimation_type\": \"metric\", \"max_depth\": 80}";
        assertEquals(ModelConfig.preset("vitl-metric-outdoor"), HfConfig.read(write(large)));
    }

    @Test
    void unsupportedOrBrokenConfigsNameFileAndKey() throws Exception {
        String[][] bad = {
            {"{not json", "not valid JSON"},
            {"{\"model_type\": \"dpt\"}", "model_type"},
            {"{\"model_type\": \"depth_anything\"}", "backbone_config"},
            {"{" + SMALL_BACKBONE + ", \"depth_estimation_type\": \"absolute\"}", "depth_estimation_type"},
            {"{" + SMALL_BACKBONE + ", \"depth_estimation_type\": \"metric\", \"max_depth\": \"far\"}", "max_depth"},
            {"{" + SMALL_BACKBONE + ", \"head_hidden_size\": 64}", "head_hidden_size"},
            {"{\"backbone_config\": {\"hidden_size\": 384, \"num_attention_heads\": 6}}", "out_indices"},
        };
        for (String[] b : bad) {
            Path f = write(b[0]);
            LoraException e = assertThrows(LoraException.class, () -> HfConfig.read(f), b[0]);
            assertTrue(e.getMessage().startsWith(f.toString()) && e.getMessage().contains(b[1]), e.getMessage());
        }
    }

    @Test
    void besidesFindsTheFolderConfigAndOnlyDepthAnythingOnesNextToAFile() throws Exception {
        Path repo = Files.createDirectories(tmp.resolve("repo"));
        assertEquals(Optional.empty(), HfConfig.besides(repo));
        Path c = Files.writeString(repo.resolve("config.json"), "{\"model_type\": \"depth_anything\"}");
        assertEquals(Optional.of(c), HfConfig.besides(repo));
        assertEquals(Optional.of(c.toAbsolutePath()), HfConfig.besides(repo.resolve("model.safetensors")));
        Path other = Files.createDirectories(tmp.resolve("other"));
        Files.writeString(other.resolve("config.json"), "{\"model_type\": \"bert\"}");
        assertEquals(Optional.empty(), HfConfig.besides(other.resolve("model.safetensors")));
    }
}
