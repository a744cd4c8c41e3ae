package com.loratool.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.loratool.train.TinyModels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * On the small pretrained fixture and data-samples (configs/smoke-pretrained.yaml): a q,v slice
 * run and a DoRA run each lower the validation AbsRel below the frozen model's, and
 * {@code lora eval --compare} puts them in one table with the plain qkv run.
 */
class AdapterKindsEndToEndTest {
    @TempDir
    Path out;

    private Path train(String name, String... sets) {
        Path fixture = TinyModels.dir("da2-tiny-pretrained");
        List<String> args = new ArrayList<>(List.of("train", "--config", "configs/smoke-pretrained.yaml", "--quiet",
                "--set", "train.epochs=5", "--set", "train.run_name=" + name,
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
    void qvSlicesAndDoraBeatTheFrozenModelAndCompareWithQkv() throws Exception {
        Path qkv = train("qkv");
        Path qv = train("qv", "lora.targets=['qkv:q,v']");
        Path dora = train("dora", "lora.dora=true");
        assertTrue(Files.readString(qv.resolve("best/adapter_config.json")).contains("pretrained.blocks.0.attn.qkv.v"));
        assertTrue(Files.readString(dora.resolve("best/adapter_config.json")).contains("\"dora\" : true"));
        Path report = out.resolve("eval");
        TrainCommandTest.Run r = TrainCommandTest.run("eval", "--checkpoint", qkv.resolve("best").toString(),
                "--compare", qv.toString(), dora.toString(), "--no-pictures", "--threads", "1",
                "--cache-dir", out.resolve("cache").toString(), "--output", report.toString());
        assertEquals(0, r.code(), r.err());
        List<String> rows = Files.readAllLines(report.resolve("compare.csv"));
        int col = Arrays.asList(rows.get(0).split(",")).indexOf("abs_rel");
        Map<String, Double> absRel = new LinkedHashMap<>();
        for (String row : rows.subList(1, rows.size())) {
            String[] f = row.split(",");
            absRel.put(f[0], Double.parseDouble(f[col]));
        }
        System.out.println("validation AbsRel: " + absRel);
        assertEquals(4, absRel.size(), rows.toString()); // original + 3 runs
        List<Double> v = new ArrayList<>(absRel.values());
        double frozen = v.get(0);
        assertTrue(v.get(1) < frozen, "qkv " + absRel);
        assertTrue(v.get(2) < frozen, "q,v slices " + absRel);
        assertTrue(v.get(3) < frozen, "DoRA " + absRel);
        String md = Files.readString(report.resolve("compare.md"));
        assertTrue(md.contains("qv") && md.contains("dora") && md.contains("qkv"), md);
    }
}
