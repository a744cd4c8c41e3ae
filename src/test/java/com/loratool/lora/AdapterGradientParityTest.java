package com.loratool.lora;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import com.fasterxml.jackson.databind.JsonNode;
import com.loratool.config.LoraConfig;
import com.loratool.io.Checksums;
import com.loratool.io.HostTensor;
import com.loratool.io.Json;
import com.loratool.io.Npy;
import com.loratool.io.NpyArray;
import com.loratool.io.Npz;
import com.loratool.model.DepthAnythingV2;
import com.loratool.train.TinyModels;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The toolkit's LoRA gradients against the official PyTorch model's, one backward pass of
 * {@code mean((model(x) - t)^2)} on da2-tiny2 (fixtures/da2-tiny2-grad, made by
 * scripts/reference/make_grad_fixture.py in float64): the same layers adapted, the same loss, and
 * every adapter tensor's gradient within relative L2 1e-4. Guards against libtorch kernels that
 * compute convolution input-gradients wrong (oneDNN on some CPUs: output channels not a multiple of
 * 16, as a rank-4 conv A, and stride-2 convolutions, as {@code resize_layers.3}).
 *
 * <p>Cases: {@code qkv-r8} (targets [qkv], r 8, alpha 4) and {@code headconv-r4} (targets [qkv]
 * with head_convs, r 4, alpha 8: every Conv2d of the DPT head, the stride-2 one included).
 */
class AdapterGradientParityTest {
    static final double GRADIENT_TOLERANCE = 1e-4;
    static final double LOSS_TOLERANCE = 1e-5;
    static final Path DIR = TinyModels.fixtures().resolve("da2-tiny2-grad");
    static final Map<String, Pass> PASSES = new ConcurrentHashMap<>();

    /**
     * One case's result: the modules the toolkit adapted; the loss and the adapter gradients by
     * {@code <module>.lora_A.weight} / {@code .lora_B.weight} (PEFT layout), null when the adapted
     * modules differ from the fixture's (the factors could not be loaded).
     */
    record Pass(TreeSet<String> adapted, Double loss, Map<String, HostTensor> gradients) { }

    static JsonNode manifest() {
        try {
            return Json.JSON.readTree(DIR.resolve("manifest.json").toFile());
        } catch (IOException e) {
            throw new AssertionError("fixture not readable: " + DIR.resolve("manifest.json") + " (" + e + ")", e);
        }
    }

    static JsonNode caseOf(String name) {
        JsonNode c = manifest().path("cases").path(name);
        assertTrue(c.isObject(), "no case " + name + " in " + DIR.resolve("manifest.json"));
        return c;
    }

    static TreeSet<String> fixtureModules(JsonNode c) {
        TreeSet<String> out = new TreeSet<>();
        c.path("modules").forEach(n -> out.add(n.asText()));
        return out;
    }

    static Map<String, HostTensor> tensors(Path npz) {
        Map<String, HostTensor> out = new LinkedHashMap<>();
        for (Map.Entry<String, NpyArray> e : Npz.read(npz).entrySet()) {
            out.put(e.getKey(), new HostTensor(e.getValue().shape(), e.getValue().data()));
        }
        return out;
    }

    /** The case's config as the fixture's manifest gives it (the toolkit's lora section keys). */
    static LoraConfig config(JsonNode c) {
        JsonNode l = c.path("lora");
        List<String> targets = new ArrayList<>();
        l.path("targets").forEach(n -> targets.add(n.asText()));
        return LoraConfig.defaults().with(Map.of("r", l.path("r").asInt(), "alpha", l.path("alpha").asDouble(),
                "targets", targets, "head_convs", l.path("head_convs").asBoolean()));
    }

    static Pass pass(String name) {
        return PASSES.computeIfAbsent(name, AdapterGradientParityTest::run);
    }

    /** Injects the case's adapters with the toolkit, loads the fixture's factors, one forward and backward. */
    static Pass run(String name) {
        JsonNode c = caseOf(name);
        NpyArray x = Npy.read(DIR.resolve(manifest().path("input").asText()));
        NpyArray t = Npy.read(DIR.resolve(manifest().path("target").asText()));
        try (NDManager m = NDManager.newBaseManager()) {
            DepthAnythingV2 model = TinyModels.load("da2-tiny2", m);
            try (LoraModel lm = LoraInjector.inject(model, config(c), 0, m)) {
                TreeSet<String> adapted = new TreeSet<>(lm.adaptedNames());
                if (!adapted.equals(fixtureModules(c))) {
                    return new Pass(adapted, null, null);
                }
                lm.loadAdapterTensors(tensors(DIR.resolve(c.path("adapters").asText())), name + " adapters");
                lm.setTraining(true);
                double loss;
                try (NDManager step = m.newSubManager()) {
                    NDArray input = step.create(x.data(), new Shape(x.shape()));
                    NDArray target = step.create(t.data(), new Shape(t.shape()));
                    try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                        NDArray l = model.forward(input).sub(target).square().mean();
                        loss = l.getFloat();
                        gc.backward(l);
                    }
                }
                Map<String, HostTensor> grads = new LinkedHashMap<>();
                for (LoraLayer layer : lm.layers().values()) {
                    List<NDArray> arrays = layer.trainable();
                    grads.put(layer.name() + AdapterSet.A_SUFFIX, peftLayout(layer, arrays.get(0), layer.loraA().shape()));
                    grads.put(layer.name() + AdapterSet.B_SUFFIX, peftLayout(layer, arrays.get(1), layer.loraB().shape()));
                }
                return new Pass(adapted, loss, grads);
            }
        }
    }

    /** A factor's gradient in PEFT's layout: LoraLinear keeps A^T (in, r) and B^T (r, out), a conv the layout itself. */
    static HostTensor peftLayout(LoraLayer layer, NDArray factor, long[] peftShape) {
        float[] g = factor.getGradient().toFloatArray();
        if (layer instanceof LoraLinear) {
            g = LoraLayer.transpose(g, (int) peftShape[1], (int) peftShape[0]);
        }
        return new HostTensor(peftShape, g);
    }

    /** ||got - want|| / ||want||; an all-zero reference (a layer the forward never calls) wants exact zeros (else infinity). */
    static double relativeL2(float[] got, float[] want) {
        double num = 0;
        double den = 0;
        for (int i = 0; i < got.length; i++) {
            double d = (double) got[i] - want[i];
            num += d * d;
            den += (double) want[i] * want[i];
        }
        return den == 0 ? (num == 0 ? 0 : Double.POSITIVE_INFINITY) : Math.sqrt(num / den);
    }

    /** The fixture was made from fixtures/da2-tiny2/weights.pth as it is now (else every comparison below is moot). */
    @Test
    void fixtureWasMadeFromTheDa2Tiny2Weights() {
        String want = manifest().path("weights_sha256").asText();
        assertEquals(want, Checksums.sha256(TinyModels.dir("da2-tiny2").resolve("weights.pth")),
                "fixtures/da2-tiny2/weights.pth changed since da2-tiny2-grad was made; rerun make_grad_fixture.py");
    }

    @ParameterizedTest
    @ValueSource(strings = {"qkv-r8", "headconv-r4"})
    void adaptsExactlyTheFixturesModules(String name) {
        TreeSet<String> want = fixtureModules(caseOf(name));
        TreeSet<String> got = pass(name).adapted();
        TreeSet<String> missing = new TreeSet<>(want);
        missing.removeAll(got);
        TreeSet<String> extra = new TreeSet<>(got);
        extra.removeAll(want);
        assertTrue(missing.isEmpty() && extra.isEmpty(), name + ": the toolkit adapts other modules than the reference;"
                + " not adapted " + missing + ", adapted only by the toolkit " + extra);
    }

    @ParameterizedTest
    @ValueSource(strings = {"qkv-r8", "headconv-r4"})
    void lossMatchesTheReference(String name) {
        Pass p = pass(name);
        assertNotNull(p.loss(), name + ": adapted modules differ from the fixture's (see adaptsExactlyTheFixturesModules)");
        double want = caseOf(name).path("loss").asDouble();
        double rel = Math.abs(p.loss() - want) / Math.abs(want);
        assertTrue(rel <= LOSS_TOLERANCE, String.format(Locale.ROOT, "%s: loss %.9g, reference %.9g, relative error %.3g > %.0g",
                name, p.loss(), want, rel, LOSS_TOLERANCE));
    }

    @ParameterizedTest
    @ValueSource(strings = {"qkv-r8", "headconv-r4"})
    void adapterGradientsMatchTheReference(String name) {
        Pass p = pass(name);
        assertNotNull(p.gradients(), name + ": adapted modules differ from the fixture's (see adaptsExactlyTheFixturesModules)");
        Map<String, HostTensor> want = tensors(DIR.resolve(caseOf(name).path("gradients").asText()));
        assertEquals(new TreeSet<>(want.keySet()), new TreeSet<>(p.gradients().keySet()), name + ": gradient tensor names");
        List<String> failures = new ArrayList<>();
        double worst = 0;
        String worstName = null;
        for (Map.Entry<String, HostTensor> e : want.entrySet()) {
            HostTensor got = p.gradients().get(e.getKey());
            if (!Arrays.equals(got.shape(), e.getValue().shape())) {
                failures.add(e.getKey() + ": shape " + got.shapeString() + ", reference " + e.getValue().shapeString());
                continue;
            }
            double rel = relativeL2(got.data(), e.getValue().data());
            if (!(rel <= GRADIENT_TOLERANCE)) {
                failures.add(String.format(Locale.ROOT, "%s: relative L2 %.3g", e.getKey(), rel));
            }
            if (!(rel <= worst)) {
                worst = rel;
                worstName = e.getKey();
            }
        }
        assertTrue(failures.isEmpty(), String.format(Locale.ROOT, "%s: %d of %d adapter gradients differ from the"
                + " reference by more than %.0g: %s", name, failures.size(), want.size(), GRADIENT_TOLERANCE, failures));
        System.out.printf(Locale.ROOT, "%s: %d gradients, max relative L2 %.3g (%s), loss %.9g%n", name, want.size(), worst,
                worstName, p.loss());
    }
}
