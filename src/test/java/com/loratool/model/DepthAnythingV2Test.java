package com.loratool.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.loratool.LoraException;
import com.loratool.io.HostTensor;
import com.loratool.model.nn.Conv2d;
import com.loratool.model.weights.StateDicts;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Module tree, strict loading and memory behaviour of the model. */
class DepthAnythingV2Test {
    private static final Path TINY = Fixtures.shared("da2-tiny");

    @Test
    void parameterNamesAndOrderEqualTheOfficialStateDict() {
        LinkedHashMap<String, HostTensor> sd = StateDicts.read(TINY.resolve("weights.pth"));
        try (NDManager m = NDManager.newBaseManager()) {
            DepthAnythingV2 model = new DepthAnythingV2(ModelConfig.fromYaml(TINY.resolve("model.yaml")), m);
            assertEquals(new ArrayList<>(sd.keySet()), new ArrayList<>(model.namedParameters().keySet()));
            assertTrue(model.namedModules().containsKey("pretrained.blocks.3.attn.qkv"));
            assertTrue(model.namedModules().get("depth_head.scratch.refinenet1.out_conv")
                    instanceof Conv2d);
        }
    }

    @Test
    void strictLoadListsMissingUnexpectedAndMisShapedKeys() {
        LinkedHashMap<String, HostTensor> sd = StateDicts.read(TINY.resolve("weights.pth"));
        sd.remove("pretrained.norm.bias");
        sd.put("extra.weight", new HostTensor(new long[] {1}, new float[] {0}));
        sd.put("pretrained.cls_token", new HostTensor(new long[] {1, 1, 2}, new float[2]));
        try (NDManager m = NDManager.newBaseManager()) {
            DepthAnythingV2 model = new DepthAnythingV2(ModelConfig.fromYaml(TINY.resolve("model.yaml")), m);
            LoraException e = assertThrows(LoraException.class, () -> model.load(sd));
            String msg = e.getMessage();
            assertTrue(msg.contains("1 missing (pretrained.norm.bias)"), msg);
            assertTrue(msg.contains("1 unexpected (extra.weight)"), msg);
            assertTrue(msg.contains("pretrained.cls_token [1, 1, 2] vs model (1, 1, 48)"), msg);
            assertEquals(1, msg.lines().count());
        }
    }

    @Test
    void forwardLeavesNothingInTheModelManager() {
        try (NDManager base = NDManager.newBaseManager()) {
            DepthAnythingV2 model = new DepthAnythingV2(ModelConfig.fromYaml(TINY.resolve("model.yaml")), base);
            model.load(StateDicts.read(TINY.resolve("weights.pth")));
            // a non-square 7x11 grid: bicubic position matrices and bilinear matrices get cached
            try (NDManager warm = base.newSubManager()) {
                model.forward(warm.ones(new Shape(2, 3, 98, 154)));
            }
            int before = base.getManagedArrays().size();
            for (int i = 0; i < 2; i++) {
                try (NDManager step = base.newSubManager()) {
                    NDArray y = model.forward(step.ones(new Shape(2, 3, 98, 154)));
                    assertEquals(new Shape(2, 98, 154), y.getShape());
                    assertTrue(y.getManager() == step);
                }
            }
            assertEquals(before, base.getManagedArrays().size());
        }
    }

    @Test
    void batchedForwardEqualsSingleForwards() {
        try (NDManager base = NDManager.newBaseManager(); NDManager step = base.newSubManager()) {
            DepthAnythingV2 model = new DepthAnythingV2(ModelConfig.fromYaml(TINY.resolve("model.yaml")), base);
            model.load(StateDicts.read(TINY.resolve("weights.pth")));
            NDArray x = Fixtures.npy(step, TINY.resolve("input_tensor.npy"));
            NDArray two = x.concat(x.mul(0.5f), 0);
            NDArray y2 = model.forward(two);
            NDArray y1 = model.forward(x.mul(0.5f));
            float[] a = y2.get(1).toFloatArray();
            float[] b = y1.get(0).toFloatArray();
            assertTrue(Fixtures.relL2(a, b) < 1e-5);
        }
    }

    @Test
    void parameterCountsAddUp() {
        LinkedHashMap<String, HostTensor> sd = StateDicts.read(TINY.resolve("weights.pth"));
        long want = 0;
        for (Map.Entry<String, HostTensor> e : sd.entrySet()) {
            want += e.getValue().numel();
        }
        try (NDManager m = NDManager.newBaseManager()) {
            DepthAnythingV2 model = new DepthAnythingV2(ModelConfig.fromYaml(TINY.resolve("model.yaml")), m);
            assertEquals(want, model.parameterCount());
            assertEquals(want, model.pretrained().parameterCount() + model.depthHead().parameterCount());
        }
    }
}
