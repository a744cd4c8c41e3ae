package com.loratool.lora.export;

import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.loratool.io.HostTensor;
import com.loratool.io.Npy;
import com.loratool.io.NpyArray;
import com.loratool.lora.AdapterSet;
import com.loratool.lora.LoraPair;
import com.loratool.lora.LoraScaling;
import com.loratool.model.DepthAnythingV2;
import com.loratool.model.ModelConfig;
import com.loratool.model.nn.Conv2d;
import com.loratool.model.nn.LayerAdapter;
import com.loratool.model.nn.Linear;
import com.loratool.model.nn.Module;
import com.loratool.model.weights.StateDicts;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * On the tiny fixture model: the model with LoRA adapters evaluated as separate branches
 * (y = W x + b + s B A x, computed here by a test adapter) gives the same output as the model
 * loaded with the merged weights, and as the merged weights of the PEFT export re-imported.
 */
class MergedModelTest {
    static final Path FIXTURE = Path.of(System.getProperty("fixtures.dir", "fixtures"), "da2-tiny");

    /** s * B(A x): linear (x @ A^T @ B^T) or convolution (A with the base's stride/padding, then 1x1 B). */
    record BranchAdapter(NDArray a, NDArray b, double s, Conv2d conv) implements LayerAdapter {
        @Override
        public NDArray delta(NDArray x) {
            if (conv == null) {
                return x.matMul(a).matMul(b).mul(s); // a = A^T, b = B^T
            }
            NDArray h = ai.djl.nn.convolutional.Conv2d.conv2d(x, a, null, new Shape(conv.stride(), conv.stride()),
                    new Shape(conv.padding(), conv.padding()), new Shape(1, 1), 1).singletonOrThrow();
            return ai.djl.nn.convolutional.Conv2d.conv2d(h, b, null, new Shape(1, 1), new Shape(0, 0), new Shape(1, 1), 1)
                    .singletonOrThrow().mul(s);
        }
    }

    static NDArray nd(NDManager m, HostTensor t) {
        return m.create(t.data(), new Shape(t.shape()));
    }

    static void attach(DepthAnythingV2 model, AdapterSet set, double s, NDManager m) {
        Map<String, Module> mods = model.namedModules();
        set.layers().forEach((name, p) -> {
            Module mod = mods.get(name);
            if (mod instanceof Linear lin) {
                lin.setAdapter(new BranchAdapter(nd(m, p.a()).transpose(), nd(m, p.b()).transpose(), s, null));
            } else if (mod instanceof Conv2d c) {
                c.setAdapter(new BranchAdapter(nd(m, p.a()), nd(m, p.b()), s, c));
            } else {
                throw new AssertionError("no layer " + name);
            }
        });
    }

    static float[] forward(NDManager root, ModelConfig cfg, Map<String, HostTensor> sd, AdapterSet adapters, double s) {
        try (NDManager m = root.newSubManager()) {
            DepthAnythingV2 model = new DepthAnythingV2(cfg, m);
            model.load(sd);
            if (adapters != null) {
                attach(model, adapters, s, m);
            }
            NpyArray x = Npy.read(FIXTURE.resolve("input_tensor.npy"));
            try (NDManager step = m.newSubManager()) {
                return model.forward(step.create(x.data(), new Shape(x.shape()))).toFloatArray();
            }
        }
    }

    static double relL2(float[] a, float[] b) {
        double num = 0, den = 0;
        for (int i = 0; i < a.length; i++) {
            num += (double) (a[i] - b[i]) * (a[i] - b[i]);
            den += (double) b[i] * b[i];
        }
        return Math.sqrt(num / den);
    }

    static HostTensor rand(Random r, double sd, long... shape) {
        float[] v = new float[(int) HostTensor.numel(shape)];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (sd * r.nextGaussian());
        }
        return new HostTensor(shape, v);
    }

    @Test
    void mergedAndPeftRoundTripEqualTheAdaptedModel() {
        Random r = new Random(9);
        LinkedHashMap<String, LoraPair> m = new LinkedHashMap<>();
        for (int b = 0; b < 4; b++) {
            m.put("pretrained.blocks." + b + ".attn.qkv", new LoraPair(rand(r, 0.1, 4, 48), rand(r, 0.1, 144, 4)));
            m.put("pretrained.blocks." + b + ".mlp.fc2", new LoraPair(rand(r, 0.1, 4, 192), rand(r, 0.1, 48, 4)));
        }
        m.put("depth_head.scratch.refinenet2.resConfUnit2.conv2", new LoraPair(rand(r, 0.1, 4, 16, 3, 3),
                rand(r, 0.1, 16, 4, 1, 1)));
        AdapterSet set = new AdapterSet(m);
        double s = 8.0 / 4;
        LinkedHashMap<String, HostTensor> base = StateDicts.read(FIXTURE.resolve("weights.pth"));
        ModelConfig cfg = ModelConfig.fromYaml(FIXTURE.resolve("model.yaml"));
        try (NDManager root = NDManager.newBaseManager(Device.cpu())) {
            float[] plain = forward(root, cfg, base, null, 0);
            float[] adapted = forward(root, cfg, base, set, s);
            float[] merged = forward(root, cfg, MergedWeights.merge(base, set, s), null, 0);
            assertTrue(relL2(adapted, plain) > 1e-3, "the adapters must change the output: " + relL2(adapted, plain));
            double e = relL2(merged, adapted);
            assertTrue(e < 1e-5, "merged vs adapted: " + e);
            System.out.println("merged vs adapted rel L2 " + e + ", adapters change the output by " + relL2(adapted, plain));

            PeftAdapter.Imported back = PeftAdapter.export(set, new LoraScaling(4, 8, false), 0, "w").toProject(Path.of("peft"));
            float[] viaPeft = forward(root, cfg, base, back.adapters(), back.scaling().value());
            double e2 = relL2(viaPeft, adapted);
            assertTrue(e2 < 1e-5, "PEFT export + import vs adapted: " + e2);
            System.out.println("PEFT export + import vs adapted rel L2 " + e2);
        }
    }
}
