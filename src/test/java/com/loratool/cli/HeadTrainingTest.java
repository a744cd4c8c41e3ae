package com.loratool.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.loratool.checkpoint.ModelResolver;
import com.loratool.checkpoint.ModelSource;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.loratool.io.HostTensor;
import com.loratool.io.Safetensors;
import com.loratool.lora.AdapterCheckpoint;
import com.loratool.model.weights.StateDicts;
import com.loratool.train.TinyModels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code lora.train_modules} (PEFT's modules_to_save) on the small pretrained fixture and
 * data-samples/: the head trained alone lowers the loss and its checkpoint holds the head only;
 * the PEFT export writes it as modules_to_save and {@code lora import} reads it back exactly.
 */
class HeadTrainingTest {
    @TempDir
    Path out;

    private Path train(String name, int epochs, String... sets) {
        Path fixture = TinyModels.dir("da2-tiny-pretrained");
        List<String> args = new ArrayList<>(List.of("train", "--config", "configs/smoke-pretrained.yaml", "--quiet",
                "--set", "train.epochs=" + epochs, "--set", "train.run_name=" + name, "--set", "data.scale=10",
                "--set", "model.weights=" + fixture.resolve("weights.pth"),
                "--set", "model.config=" + fixture.resolve("model.yaml"), "--set", "train.output_dir=" + out));
        for (String s : sets) {
            args.add("--set");
            args.add(s);
        }
        TrainCommandTest.Run r = TrainCommandTest.run(args.toArray(new String[0]));
        assertEquals(0, r.code(), r.err());
        return out.resolve(name);
    }

    @Test
    void theHeadTrainedAloneLowersTheLossAndIsAllTheCheckpointHolds() throws Exception {
        Path run = train("head", 3, "lora.targets=[]", "lora.train_modules=[depth_head]");
        List<String> rows = Files.readAllLines(run.resolve("metrics.csv"));
        double first = Double.parseDouble(rows.get(1).split(",")[1]);
        double last = Double.parseDouble(rows.get(3).split(",")[1]);
        assertTrue(last < first, "train loss " + first + " -> " + last);
        Map<String, HostTensor> saved = Safetensors.read(run.resolve("best/adapter.safetensors"));
        Map<String, HostTensor> base = StateDicts.read(TinyModels.dir("da2-tiny-pretrained").resolve("weights.pth"));
        long headParams = base.keySet().stream().filter(k -> k.startsWith("depth_head.")).count();
        assertEquals(headParams, saved.size());
        assertTrue(saved.keySet().stream().allMatch(k -> k.startsWith("depth_head.")), saved.keySet().toString());
        // trained: the head differs from the base's
        String k = "depth_head.scratch.output_conv2.2.weight";
        assertTrue(!Arrays.equals(base.get(k).data(), saved.get(k).data()), k + " unchanged");
    }

    @Test
    void modulesToSaveSurviveThePeftExportAndImportExactly() throws Exception {
        Path run = train("qkv-head", 1, "lora.train_modules=[depth_head]", "train.lr_multipliers={depth_head: 10}");
        Path peft = out.resolve("peft");
        TrainCommandTest.Run e = TrainCommandTest.run("export", "--checkpoint", run.resolve("best").toString(),
                "--format", "peft", "--output", peft.toString());
        assertEquals(0, e.code(), e.err());
        JsonNode cfg = new ObjectMapper().readTree(peft.resolve("adapter_config.json").toFile());
        assertTrue(cfg.get("modules_to_save").isArray() && cfg.get("modules_to_save").size() > 0, cfg.toString());
        Map<String, HostTensor> st = Safetensors.read(peft.resolve("adapter_model.safetensors"));
        assertTrue(st.containsKey("base_model.model.head.conv3.weight"), st.keySet().toString());
        for (JsonNode m : cfg.get("modules_to_save")) {
            assertTrue(st.keySet().stream().anyMatch(k -> k.startsWith("base_model.model." + m.asText() + ".")), m.asText());
        }
        Path imported = out.resolve("imported");
        Path weights = TinyModels.dir("da2-tiny-pretrained").resolve("weights.pth");
        TrainCommandTest.Run i = TrainCommandTest.run("import", "--peft", peft.toString(), "--weights", weights.toString(),
                "--output", imported.toString());
        assertEquals(0, i.code(), i.err());
        AdapterCheckpoint a = AdapterCheckpoint.load(run.resolve("best"));
        AdapterCheckpoint b = AdapterCheckpoint.load(imported);
        assertEquals(a.modules().keySet(), b.modules().keySet());
        assertTrue(a.modules().keySet().stream().allMatch(k -> k.startsWith("depth_head.")));
        for (String k : a.modules().keySet()) {
            assertArrayEquals(a.modules().get(k).shape(), b.modules().get(k).shape(), k);
            assertArrayEquals(a.modules().get(k).data(), b.modules().get(k).data(), k); // bit for bit
        }
        // the merged models agree: the same head, the same adapter updates (q/k/v fused back)
        Map<String, HostTensor> ma = ModelResolver.resolve(new ModelSource.Checkpoint(run.resolve("best"), weights, null)).weights(1);
        Map<String, HostTensor> mb = ModelResolver.resolve(new ModelSource.Checkpoint(imported, weights, null)).weights(1);
        assertEquals(ma.keySet(), mb.keySet());
        for (String k : ma.keySet()) {
            float[] x = ma.get(k).data();
            float[] y = mb.get(k).data();
            for (int j = 0; j < x.length; j++) {
                assertEquals(x[j], y[j], 1e-5, k + "[" + j + "]");
            }
        }
    }
}
