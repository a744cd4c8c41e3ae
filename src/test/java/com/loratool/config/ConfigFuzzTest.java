package com.loratool.config;

import com.code_intelligence.jazzer.junit.FuzzTest;
import com.fasterxml.jackson.databind.JsonNode;
import com.loratool.FuzzFiles;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * Fuzzes YAML run config loading (docs/DEVELOPING.md, "Fuzzing"). In `mvn verify` it replays
 * src/test/resources/com/loratool/config/ConfigFuzzTestInputs (seeds for the strict rules among them:
 * duplicate keys, a second section block, out-of-range and non-finite numbers, backtracking
 * patterns); scripts/fuzz.sh ConfigFuzzTest fuzzes it. Any input must end in a one-line error naming
 * the file, or load as a run whose numbers are all finite and whose saved form loads back the same.
 */
public class ConfigFuzzTest {
    /** libFuzzer entry point, for scripts/fuzz.sh (the Jazzer command line). */
    public static void fuzzerTestOneInput(byte[] data) {
        FuzzFiles.check(data, "input.yaml", f -> {
            RunConfig c = ConfigLoader.load(f, List.of());
            // what loads obeyed the strict rules: every number finite, and the saved form (what
            // runs/<name>/config.yaml holds) loads back to the same run
            finite(c.tree(), "");
            Path saved = f.resolveSibling("saved.yaml");
            ConfigLoader.save(c, saved);
            if (!ConfigLoader.load(saved, List.of()).equals(c)) {
                throw new AssertionError("the saved config loads as another run:\n" + c);
            }
        });
    }

    private static void finite(JsonNode n, String path) {
        if (n.isNumber() && !Double.isFinite(n.doubleValue())) {
            throw new AssertionError(path + ": a non-finite number was accepted: " + n);
        }
        for (Iterator<Map.Entry<String, JsonNode>> it = n.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            finite(e.getValue(), path + "." + e.getKey());
        }
        for (int i = 0; n.isArray() && i < n.size(); i++) {
            finite(n.get(i), path + "[" + i + "]");
        }
    }

    @FuzzTest(maxDuration = "10m")
    void fuzz(byte[] data) {
        fuzzerTestOneInput(data);
    }
}
