package com.loratool.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 27, class 5: {@code lora.train_modules} and {@code train.lr_multipliers} are one grammar
 * ({@code config.ModuleSelector}), parsed by the config and matched by one selector everywhere, so
 * {@code --dry-run} refuses what training would refuse, and a pattern the dry run accepts trains.
 */
class ModulePatternsTest {
    @TempDir
    Path out;

    private TrainCommandTest.Run train(String... extra) {
        List<String> a = new ArrayList<>(List.of("train", "--config", "configs/smoke.yaml", "--quiet",
                "--set", "train.output_dir=" + out, "--set", "train.epochs=1", "--set", "lora.head_convs=false",
                "--set", "lora.train_modules=[depth_head]"));
        for (String s : extra) {
            a.add("--set");
            a.add(s);
        }
        return TrainCommandTest.run(a.toArray(String[]::new));
    }

    private static String oneLine(TrainCommandTest.Run r) {
        String e = r.err().trim();
        assertEquals(1, e.lines().count(), e);
        return e;
    }

    @Test
    void aPythonNamedGroupIsRE2AndTrains() {
        // java.util.regex cannot compile (?P<x>...): this was an internal error at training start
        TrainCommandTest.Run r = train("train.lr_multipliers={\"re:(?P<x>depth_head)\": 10}");
        assertEquals(0, r.code(), r.err());
        assertTrue(Files.exists(out.resolve("smoke/best/adapter.safetensors")));
    }

    @Test
    void theDryRunRefusesAKeyThatMatchesNothingAsTrainingWould() {
        TrainCommandTest.Run r = TrainCommandTest.run("train", "--config", "configs/smoke.yaml", "--dry-run",
                "--set", "lora.head_convs=false", "--set", "lora.train_modules=[depth_head]",
                "--set", "train.lr_multipliers={\"re:(?P<x>head)\": 10}");
        assertEquals(2, r.code(), r.err());
        String e = oneLine(r);
        assertTrue(e.startsWith("error: configs/smoke.yaml: train.lr_multipliers: 're:(?P<x>head)' matches no"
                + " trainable parameter (a re: pattern must match a whole name; it matches inside depth_head"), e);

        r = train("train.lr_multipliers={depth_haed: 10}");
        assertEquals(2, r.code(), r.err());
        assertEquals("error: configs/smoke.yaml: train.lr_multipliers: 'depth_haed' matches no trainable parameter"
                + " (did you mean depth_head?)", oneLine(r));
        assertFalse(Files.exists(out.resolve("smoke")), "a refused run left its folder behind");
    }

    @Test
    void aTrainModuleMatchingNothingNamesTheNearModules() {
        TrainCommandTest.Run r = train("lora.train_modules=[depth_haed]");
        assertEquals(2, r.code(), r.err());
        assertEquals("error: configs/smoke.yaml: lora.train_modules: 'depth_haed' matches no module of the model"
                + " (did you mean depth_head?)", oneLine(r));
        // a leading space is trimmed, as in lora.targets; both spellings of one module are refused
        r = train("lora.train_modules=[' depth_head']", "train.lr_multipliers={' depth_head': 10, depth_head: 3}");
        assertEquals(2, r.code(), r.err());
        assertTrue(oneLine(r).contains("train.lr_multipliers: 'depth_head' named twice"), r.err());
    }
}
