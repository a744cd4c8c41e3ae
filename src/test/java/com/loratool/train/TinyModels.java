package com.loratool.train;

import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import com.loratool.data.Sample;
import com.loratool.io.HostTensor;
import com.loratool.model.Compute;
import com.loratool.model.DepthAnythingV2;
import com.loratool.model.ModelConfig;
import com.loratool.model.nn.Parameter;
import com.loratool.model.weights.StateDicts;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/** Test helpers: the tiny fixture models and synthetic samples. */
public final class TinyModels {
    private TinyModels() {}

    public static Path fixtures() {
        return Path.of(System.getProperty("fixtures.dir", "fixtures"));
    }

    /** da2-tiny (random official-format weights) or da2-tiny-pretrained; fails the test when the fixture is missing (they ship in fixtures/). */
    public static Path dir(String name) {
        Path d = fixtures().resolve(name);
        assertTrue(Files.exists(d.resolve("weights.pth")), "fixture not found: " + d + " (fixtures/ is part of the repository)");
        return d;
    }

    public static DepthAnythingV2 load(String name, NDManager m) {
        // One PyTorch thread: the tiny model gains nothing from more, and on a shared machine
        // spinning OpenMP threads make it several times slower.
        Compute.setThreads(1);
        Path d = dir(name);
        DepthAnythingV2 model = new DepthAnythingV2(ModelConfig.fromYaml(d.resolve("model.yaml")), m);
        model.load(StateDicts.read(d.resolve("weights.pth")));
        for (Parameter p : model.namedParameters().values()) {
            p.array().setRequiresGradient(false);
        }
        return model;
    }

    public static Map<String, float[]> snapshot(DepthAnythingV2 model) {
        Map<String, float[]> s = new LinkedHashMap<>();
        model.namedParameters().forEach((k, p) -> s.put(k, p.array().toFloatArray()));
        return s;
    }

    public static Map<String, HostTensor> stateDict(String name) {
        return StateDicts.read(dir(name).resolve("weights.pth"));
    }

    /** Random images and a tilted-plane depth with ~20% unmeasured pixels, h x w multiples of 14. */
    public static List<Sample> samples(int n, int h, int w, long seed) {
        Random r = new Random(seed);
        List<Sample> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            float[] img = new float[3 * h * w];
            float[] z = new float[h * w];
            boolean[] m = new boolean[h * w];
            for (int j = 0; j < img.length; j++) {
                img[j] = (float) r.nextGaussian();
            }
            double tilt = 0.5 + r.nextDouble();
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    int j = y * w + x;
                    z[j] = (float) (1000 + tilt * 40 * (h - y) + 30 * img[j]);
                    m[j] = r.nextDouble() < 0.8;
                }
            }
            out.add(new Sample("s" + seed + "-" + i, img, z, m, h, w));
        }
        return out;
    }
}
