package com.loratool.cli;

import com.loratool.io.Npy;
import com.loratool.model.Fixtures;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.DoubleUnaryOperator;

/**
 * A data folder made from a tiny Depth Anything 3 fixture whose truth is known from the official
 * code: {@code n} copies of its {@code image.png} (154x98, also the processed size) with an XYZ cloud
 * each, Z = {@code zMm(expected_head)} in mm (the official head output, before the sky
 * post-processing, which the toolkit's evaluation does not apply either), X and Y by the pinhole
 * camera fx = fy = 140, cx = 77, cy = 49 (the focal of {@code da3-tiny-metric}'s README).
 */
final class Da3FixtureData {
    static final double FOCAL = 140;

    private Da3FixtureData() {}

    static Path make(Path dir, String fixture, int n, DoubleUnaryOperator zMm) throws Exception {
        Path f = Fixtures.shared(fixture);
        float[] head = Npy.read(f.resolve("expected_head.npy")).data();
        int h = 98;
        int w = 154;
        float[] xyz = new float[3 * h * w];
        for (int v = 0; v < h; v++) {
            for (int u = 0; u < w; u++) {
                int i = v * w + u;
                double z = zMm.applyAsDouble(head[i]);
                xyz[3 * i] = (float) ((u - 77) * z / FOCAL);
                xyz[3 * i + 1] = (float) ((v - 49) * z / FOCAL);
                xyz[3 * i + 2] = (float) z;
            }
        }
        Files.createDirectories(dir.resolve("images"));
        Files.createDirectories(dir.resolve("depth"));
        for (int k = 0; k < n; k++) {
            String stem = "s" + k;
            Files.copy(f.resolve("image.png"), dir.resolve("images").resolve(stem + "_color.png"));
            Npy.write(dir.resolve("depth").resolve(stem + "_rawDepth.npy"), new long[] {h, w, 3}, xyz);
        }
        return dir;
    }

    /** A run config on {@code fixture}'s weights and {@code data} at the image's own size (98x154). */
    static Path config(Path dir, String fixture, Path data, String loss) throws Exception {
        Path c = dir.resolve("da3.yaml");
        Files.writeString(c, String.join("\n",
                "model:",
                "  weights: " + Fixtures.shared(fixture).resolve("model.safetensors"),
                "data:",
                "  root: " + data,
                "  size: [98, 154]",
                "  val_fraction: 0.5",
                "  seed: 0",
                "lora:",
                "  r: 2",
                "  alpha: 2",
                "  targets: [qkv]",
                "train:",
                "  lr: 1.0e-3",
                "  epochs: 1",
                "  batch_size: 2",
                "  loss: " + loss,
                "  threads: 1",
                "  keep_last: 1",
                ""));
        return c;
    }
}
