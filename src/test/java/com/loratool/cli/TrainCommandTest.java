package com.loratool.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.loratool.train.TinyModels;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code lora train} end to end on data-samples/ (run from the repository root, as surefire does). */
class TrainCommandTest {
    @TempDir
    Path out;

    record Run(int code, String out, String err) {}

    static Run run(String... args) {
        CommandLine cl = Main.commandLine();
        StringWriter o = new StringWriter();
        StringWriter e = new StringWriter();
        cl.setOut(new PrintWriter(o));
        cl.setErr(new PrintWriter(e));
        int code = cl.execute(args);
        return new Run(code, o.toString(), e.toString());
    }

    @Test
    void smokeConfigTrainsEndToEnd() throws Exception {
        Run r = run("train", "--config", "configs/smoke.yaml", "--quiet", "--set", "train.epochs=2",
                "--set", "train.output_dir=" + out);
        assertEquals(0, r.code(), r.err());
        Path dir = out.resolve("smoke");
        for (String f : List.of("config.yaml", "split.json", "metrics.csv", "train.log", "loss.png",
                "best/adapter.safetensors", "best/adapter_config.json", "checkpoints/epoch-0002/trainer_state.json")) {
            assertTrue(Files.exists(dir.resolve(f)), f);
        }
        assertEquals(3, Files.readAllLines(dir.resolve("metrics.csv")).size());
        assertTrue(Files.readString(dir.resolve("config.yaml")).contains("epochs: 2"));
        assertTrue(Files.readString(dir.resolve("train.log")).contains("trainable params: "));
        // a second run into the same directory needs --resume or --force
        Run again = run("train", "--config", "configs/smoke.yaml", "--quiet", "--set", "train.epochs=2",
                "--set", "train.output_dir=" + out);
        assertEquals(2, again.code());
        assertTrue(again.err().contains("--resume continues it"), again.err());
        // --resume with more epochs continues from epoch 2
        Run resumed = run("train", "--config", "configs/smoke.yaml", "--quiet", "--resume", "--set", "train.epochs=3",
                "--set", "train.output_dir=" + out);
        assertEquals(0, resumed.code(), resumed.err());
        assertEquals(4, Files.readAllLines(dir.resolve("metrics.csv")).size());
    }

    @Test
    void forceRefusesToDeleteTheBaseWeightsItTrainsFrom() throws Exception {
        Path fixture = TinyModels.dir("da2-tiny");
        Run first = run("train", "--config", "configs/smoke.yaml", "--quiet", "--set", "train.epochs=1",
                "--set", "train.output_dir=" + out);
        assertEquals(0, first.code(), first.err());
        // base weights kept in the run's best/ folder, which --force deletes before training again
        Path base = Files.copy(fixture.resolve("weights.pth"), out.resolve("smoke/best/base.pth"));
        Run forced = run("train", "--config", "configs/smoke.yaml", "--quiet", "--force", "--set", "train.epochs=1",
                "--set", "train.output_dir=" + out, "--set", "model.weights=" + base,
                "--set", "model.config=" + fixture.resolve("model.yaml"));
        assertEquals(2, forced.code(), forced.err());
        assertTrue(forced.err().contains("base.pth") && forced.err().contains("which --force deletes"), forced.err());
        assertEquals(1, forced.err().lines().filter(l -> !l.isBlank()).count(), forced.err());
        assertTrue(Files.isRegularFile(base), "the base weights are still there");
        assertTrue(Files.isRegularFile(out.resolve("smoke/best/adapter.safetensors")), "nothing was deleted");
    }

    @Test
    void loraOnThePretrainedTinyModelLowersTheValidationLoss() throws Exception {
        Path fixture = TinyModels.dir("da2-tiny-pretrained");
        Run r = run("train", "--config", "configs/smoke-pretrained.yaml", "--quiet", "--set", "train.epochs=6",
                "--set", "model.weights=" + fixture.resolve("weights.pth"),
                "--set", "model.config=" + fixture.resolve("model.yaml"), "--set", "train.output_dir=" + out);
        assertEquals(0, r.code(), r.err());
        List<String> rows = Files.readAllLines(out.resolve("smoke-pretrained/metrics.csv"));
        double first = Double.parseDouble(rows.get(1).split(",")[2]);
        double last = Double.parseDouble(rows.get(rows.size() - 1).split(",")[2]);
        assertTrue(last < first * 0.97, "val loss " + first + " -> " + last);
    }

    @Test
    void dryRunPrintsTheSummary() {
        Run r = run("train", "--config", "configs/smoke.yaml", "--dry-run");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().startsWith("trainable params: 31,300 || all params: "), r.out());
        assertTrue(r.out().contains("pretrained.blocks.3.mlp.fc2"), r.out());
        assertTrue(r.out().contains("depth_head.scratch.output_conv1"), r.out());
    }

    @Test
    void infoConfigPrintsThePeftLineForViTS() {
        // the example: LoRA r=8 on the 12 qkv layers of ViT-S (random weights, same shapes)
        Run r = run("info", "--config", "configs/qkv-r8.yaml", "--set", "model.weights=random");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().startsWith("trainable params: 147,456 || all params: 24,932,545 || trainable%: 0.5914"), r.out());
        assertTrue(r.out().contains("adapted layers (12):"), r.out());
    }

    @Test
    void userErrorsAreOneLine() {
        Run r = run("train", "--config", "configs/smoke.yaml", "--set", "train.lrr=1");
        assertEquals(2, r.code());
        assertEquals("error: --set train.lrr=1: train.lrr: unknown key, did you mean lr?", r.err().trim());
        r = run("train", "--config", "configs/qkv-r8.yaml", "--set", "model.weights=" + out.resolve("missing.pth"));
        assertEquals(2, r.code());
        assertTrue(r.err().trim().startsWith("error: " + out.resolve("missing.pth") + ": base weights not found"), r.err());
        r = run("train", "--config", "configs/smoke.yaml", "--set", "data.scael=3", "--set", "train.output_dir=" + out);
        assertEquals(2, r.code());
        assertTrue(r.err().contains("data.scael: unknown key, did you mean scale?"), r.err());
        r = run("train", "--config", "configs/smoke.yaml", "--devices", "1,1", "--set", "train.output_dir=" + out);
        assertEquals(2, r.code());
        assertEquals("error: --devices 1,1: train.devices: must be distinct GPU indices >= 0, got [1, 1]",
                r.err().trim());
        r = run("train", "--config", "configs/smoke.yaml", "--devices", "0,1", "--device", "cpu");
        assertEquals(2, r.code());
        assertTrue(r.err().trim().endsWith("train.devices: GPU indices [0, 1] with train.device cpu; drop one of them"),
                r.err());
    }
}
