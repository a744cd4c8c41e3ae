package com.loratool.lora;

import ai.djl.ndarray.NDArray;
import com.loratool.LoraException;
import com.loratool.config.LoraConfig;
import com.loratool.io.HostTensor;
import com.loratool.model.nn.Conv2d;
import com.loratool.model.nn.LayerAdapter;
import com.loratool.model.nn.Linear;
import com.loratool.model.nn.Module;
import com.loratool.model.nn.Parameter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * A base model with LoRA adapters attached (PEFT's LoraModel): the adapted layers by official
 * module name (a qkv slice: {@code <block>.attn.qkv.q}), their trainable arrays (A, B and DoRA's
 * magnitude), the parameter summary and the adapter state dict ({@link AdapterSet}).
 */
public final class LoraModel implements AutoCloseable {
    private final Module base;
    private final LoraConfig config;
    private final LinkedHashMap<String, LoraLayer> layers;
    /** Base weights as they were before {@link #merge()}, by module; empty when not merged. */
    private final LinkedHashMap<String, HostTensor> unmerged = new LinkedHashMap<>();
    /** The adapter each merged module had (a layer, or the slices of a qkv), to attach again. */
    private final LinkedHashMap<String, LayerAdapter> adapters = new LinkedHashMap<>();

    /** Base parameters trained fully ({@code lora.train_modules}), by full parameter name, in model order. */
    private final LinkedHashMap<String, Parameter> full = new LinkedHashMap<>();

    LoraModel(Module base, LoraConfig config, LinkedHashMap<String, LoraLayer> layers) {
        this.base = base;
        this.config = config;
        this.layers = layers;
    }

    /** Makes these base parameters trainable (PEFT's modules_to_save); they follow the adapters in {@link #trainable}. */
    void trainFully(LinkedHashMap<String, Parameter> params) {
        for (Map.Entry<String, Parameter> e : params.entrySet()) {
            e.getValue().setRequiresGradient(true);
            full.put(e.getKey(), e.getValue());
        }
    }

    /** Names of the fully trained base parameters ({@code lora.train_modules}), in model order. */
    public List<String> fullyTrained() {
        return new ArrayList<>(full.keySet());
    }

    /** A name per {@link #trainable} array: {@code <layer>.lora_A}, ... then the fully trained parameters. */
    public List<String> trainableNames() {
        List<String> out = new ArrayList<>();
        for (LoraLayer l : layers.values()) {
            List<NDArray> t = l.trainable();
            String[] kinds = {".lora_A", ".lora_B", ".lora_magnitude_vector"};
            for (int i = 0; i < t.size(); i++) {
                out.add(l.name() + (i < kinds.length ? kinds[i] : "." + i));
            }
        }
        out.addAll(full.keySet());
        return out;
    }

    public Module base() {
        return base;
    }

    public LoraConfig config() {
        return config;
    }

    /** Adapted layers by full module name, in model order. */
    public Map<String, LoraLayer> layers() {
        return Collections.unmodifiableMap(layers);
    }

    public List<String> adaptedNames() {
        return new ArrayList<>(layers.keySet());
    }

    /** Every trainable leaf array, in a fixed order (layer order, A before B). */
    public List<NDArray> trainable() {
        List<NDArray> all = new ArrayList<>();
        for (LoraLayer l : layers.values()) {
            all.addAll(l.trainable());
        }
        for (Parameter p : full.values()) {
            all.add(p.array());
        }
        return all;
    }

    public long trainableCount() {
        return layers.values().stream().mapToLong(LoraLayer::trainableCount).sum()
                + full.values().stream().mapToLong(p -> p.array().size()).sum();
    }

    /** Parameters of the frozen base model. */
    public long baseCount() {
        long n = 0;
        for (Parameter p : base.namedParameters().values()) {
            n += p.array().size();
        }
        return n;
    }

    /** PEFT's line: {@code trainable params: N || all params: M || trainable%: P}. */
    public String summary() {
        long t = trainableCount();
        long all = baseCount() + t;
        return String.format(Locale.ROOT, "trainable params: %,d || all params: %,d || trainable%%: %.4f", t, all,
                100.0 * t / all);
    }

    public void setTraining(boolean training) {
        base.setTraining(training);
        for (LoraLayer l : layers.values()) {
            l.setTraining(training);
        }
    }

    /** The adapters as they are now, by adapted name (a qkv slice is {@code <block>.attn.qkv.q}). */
    public AdapterSet adapters() {
        LinkedHashMap<String, LoraPair> pairs = new LinkedHashMap<>();
        for (LoraLayer l : layers.values()) {
            pairs.put(l.name(), l.pair());
        }
        return new AdapterSet(pairs);
    }

    /**
     * Adapter tensors in PEFT layout ({@link AdapterSet#toTensors}): {@code <module>.lora_A.weight},
     * {@code .lora_B.weight}, with DoRA {@code .lora_magnitude_vector}.
     */
    public LinkedHashMap<String, HostTensor> adapterTensors() {
        LinkedHashMap<String, HostTensor> out = adapters().toTensors();
        out.putAll(fullTensors());
        return out;
    }

    /** The fully trained parameters as they are now, by full parameter name (official names). */
    public LinkedHashMap<String, HostTensor> fullTensors() {
        LinkedHashMap<String, HostTensor> out = new LinkedHashMap<>();
        full.forEach((n, p) -> out.put(n, new HostTensor(p.array().getShape().getShape(), p.array().toFloatArray())));
        return out;
    }

    /** Loads adapter tensors; every adapted layer needs its tensors, and no other key may appear. */
    public void loadAdapterTensors(Map<String, HostTensor> sd, String source) {
        Set<String> expected = new LinkedHashSet<>(adapterTensors().keySet());
        List<String> missing = new ArrayList<>();
        for (String k : expected) {
            if (!sd.containsKey(k)) {
                missing.add(k);
            }
        }
        List<String> unexpected = new ArrayList<>();
        for (String k : sd.keySet()) {
            if (!expected.contains(k)) {
                unexpected.add(k);
            }
        }
        if (!missing.isEmpty() || !unexpected.isEmpty()) {
            throw new LoraException(source + ": adapter tensors do not match the adapted layers"
                    + (missing.isEmpty() ? "" : "; missing " + abbreviate(missing))
                    + (unexpected.isEmpty() ? "" : "; unexpected " + abbreviate(unexpected)));
        }
        for (Map.Entry<String, Parameter> e : full.entrySet()) {
            HostTensor t = sd.get(e.getKey());
            if (!Arrays.equals(t.shape(), e.getValue().array().getShape().getShape())) {
                throw new LoraException(source + ": " + e.getKey() + " has shape " + Arrays.toString(t.shape())
                        + ", the model's is " + e.getValue().array().getShape());
            }
            LoraLayer.setData(e.getValue().array(), t.data());
        }
        for (LoraLayer l : layers.values()) {
            try {
                l.load(new LoraPair(sd.get(l.name() + AdapterSet.A_SUFFIX), sd.get(l.name() + AdapterSet.B_SUFFIX),
                        sd.get(l.name() + AdapterSet.M_SUFFIX)));
            } catch (LoraException | IllegalArgumentException e) {
                throw new LoraException(source + ": " + e.getMessage());
            }
        }
    }

    private static String abbreviate(List<String> keys) {
        return keys.size() <= 4 ? keys.toString() : keys.subList(0, 4) + " and " + (keys.size() - 4) + " more";
    }

    /**
     * Folds every adapter into its base weight in place ({@link LoraPair#mergeIntoModule}: W + scaling B A,
     * DoRA's m / ||W + s B A|| (W + s B A), a qkv slice on its rows; as the merged export) and
     * detaches it, so the forward costs what the base model's does (PEFT's {@code merge_adapter}).
     * {@link #unmerge()} restores the adapted model exactly.
     */
    public void merge() {
        if (merged()) {
            throw new IllegalStateException("adapters are already merged");
        }
        Map<String, Module> modules = base.namedModules();
        LinkedHashMap<String, HostTensor> weights = new LinkedHashMap<>();
        for (LoraLayer l : layers.values()) {
            String module = QkvSlice.moduleOf(l.name());
            NDArray w = weightOf(modules.get(module)).array();
            if (!unmerged.containsKey(module)) {
                HostTensor before = new HostTensor(w.getShape().getShape(), w.toFloatArray());
                unmerged.put(module, before);
                adapters.put(module, adapterOf(modules.get(module)));
                weights.put(module, before);
            }
            weights.put(module, l.pair().mergeIntoModule(l.name(), weights.get(module), l.scaling().value()));
        }
        for (Map.Entry<String, HostTensor> e : weights.entrySet()) {
            Module m = modules.get(e.getKey());
            LoraLayer.setData(weightOf(m).array(), e.getValue().data());
            setAdapter(m, null);
        }
    }

    /** Undoes {@link #merge()}: the saved base weights back, the adapters attached again. */
    public void unmerge() {
        Map<String, Module> modules = base.namedModules();
        for (Map.Entry<String, HostTensor> e : unmerged.entrySet()) {
            Module m = modules.get(e.getKey());
            LoraLayer.setData(weightOf(m).array(), e.getValue().data());
            setAdapter(m, adapters.get(e.getKey()));
        }
        unmerged.clear();
        adapters.clear();
    }

    /** Whether the adapters are folded into the base weights ({@link #merge()}). */
    public boolean merged() {
        return !unmerged.isEmpty();
    }

    private static Parameter weightOf(Module m) {
        return m instanceof Linear lin ? lin.weight() : ((Conv2d) m).weight();
    }

    private static LayerAdapter adapterOf(Module m) {
        return m instanceof Linear lin ? lin.adapter() : ((Conv2d) m).adapter();
    }

    private static void setAdapter(Module m, LayerAdapter adapter) {
        if (m instanceof Linear lin) {
            lin.setAdapter(adapter);
        } else if (m instanceof Conv2d conv) {
            conv.setAdapter(adapter);
        }
    }

    /** Removes the adapters from the base layers and frees their arrays; the base model is as before. */
    @Override
    public void close() {
        unmerge();
        Map<String, Module> modules = base.namedModules();
        for (LoraLayer l : layers.values()) {
            setAdapter(modules.get(QkvSlice.moduleOf(l.name())), null);
            l.close();
        }
        layers.clear();
    }
}
