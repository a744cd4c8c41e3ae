package com.loratool.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.loratool.io.Checksums;
import com.loratool.io.Npy;
import java.io.StringWriter;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** predict --checkpoint equals predict --weights on the exported merged weights, and differs from the base. */
class PredictCheckpointTest {
    static final Path FIXTURE = ExportImportCommandTest.FIXTURE;

    @Test
    void checkpointPredictionEqualsMergedWeightsPrediction(@TempDir Path dir) {
        Path w = FIXTURE.resolve("weights.pth");
        Path ck = ExportImportCommandTest.checkpoint(dir, w, Checksums.sha256(w));
        String cfg = FIXTURE.resolve("model.yaml").toString();
        String img = FIXTURE.resolve("image.png").toString();
        StringWriter err = new StringWriter();
        Path merged = dir.resolve("merged.pth");
        assertEquals(0, ExportImportCommandTest.run(err, "export", "--checkpoint", ck.toString(), "--format", "merged",
                "--output", merged.toString()), err.toString());
        assertEquals(0, ExportImportCommandTest.run(err, "predict", "--checkpoint", ck.toString(), "--model-config", cfg,
                "--input", img, "--output", dir.resolve("a").toString(), "--input-size", "98"), err.toString());
        assertEquals(0, ExportImportCommandTest.run(err, "predict", "--weights", merged.toString(), "--model-config", cfg,
                "--input", img, "--output", dir.resolve("b").toString(), "--input-size", "98"), err.toString());
        assertEquals(0, ExportImportCommandTest.run(err, "predict", "--weights", w.toString(), "--model-config", cfg,
                "--input", img, "--output", dir.resolve("c").toString(), "--input-size", "98"), err.toString());
        float[] a = Npy.read(dir.resolve("a/image.npy")).data();
        float[] b = Npy.read(dir.resolve("b/image.npy")).data();
        float[] c = Npy.read(dir.resolve("c/image.npy")).data();
        assertArrayEquals(b, a);
        double diff = 0;
        for (int i = 0; i < a.length; i++) {
            diff = Math.max(diff, Math.abs(a[i] - c[i]));
        }
        assertTrue(diff > 0, "the adapters change the prediction");
        StringWriter e2 = new StringWriter();
        assertEquals(2, ExportImportCommandTest.run(e2, "predict", "--input", img, "--output", dir.resolve("d").toString()));
        assertTrue(e2.toString().contains("give --weights FILE or --checkpoint DIR"), e2.toString());
    }
}
