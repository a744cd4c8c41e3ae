package com.loratool.lora;

import ai.djl.ndarray.NDManager;
import com.loratool.LoraException;
import com.loratool.config.LoraConfig;
import com.loratool.config.TargetSpec;
import com.loratool.config.ModuleSelector;
import com.loratool.model.DepthAnythingV2;
import com.loratool.model.RandomWeights;
import com.loratool.model.nn.Conv2d;
import com.loratool.model.nn.Linear;
import com.loratool.model.nn.Module;
import com.loratool.model.nn.Parameter;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.BiPredicate;

/**
 * Finds the layers a {@link LoraConfig} targets by their official module names and attaches
 * adapters to them (PEFT's injection); the targets come parsed ({@link TargetSpec}, the one parser of
 * the grammar), this class maps each to layers. Target words: {@code qkv}, {@code proj}, {@code fc1},
 * {@code fc2}; {@code attention} (qkv + proj), {@code mlp} (fc1 + fc2), {@code linear} (every
 * linear layer of the encoder); {@code re:<regex>} matched against whole module names (linear or
 * conv layers); {@code qkv:q,v} (any non-empty subset of q, k, v) adapts those slices of every
 * fused {@code attn.qkv} on their own (adapter names {@code <block>.attn.qkv.q}, see
 * {@link QkvSlice}); {@code head_convs: true} adds every convolution of the DPT head.
 */
public final class LoraInjector {
    private LoraInjector() {}

    /** Attaches fresh adapters (B = 0, A seeded) to the targeted layers; arrays live in {@code manager}. */
    public static LoraModel inject(Module model, LoraConfig cfg, long seed, NDManager manager) {
        BiPredicate<String, Module> wanted = matcher(cfg);
        List<Integer> slices = sliceParts(cfg);
        List<String> names = new ArrayList<>();
        for (Map.Entry<String, Module> e : model.namedModules().entrySet()) {
            boolean whole = wanted.test(e.getKey(), e.getValue());
            boolean sliced = !slices.isEmpty() && e.getValue() instanceof Linear && e.getKey().endsWith(".attn.qkv");
            if (whole && sliced) {
                throw new LoraException("lora.targets: " + e.getKey() + " is targeted both whole and as q/k/v slices "
                        + cfg.targets());
            }
            if (whole) {
                names.add(e.getKey());
            } else if (sliced) {
                for (int p : slices) {
                    names.add(new QkvSlice(e.getKey(), p).name());
                }
            }
        }
        if (names.isEmpty() && (cfg.trainModules().isEmpty() || !cfg.targets().isEmpty())) {
            throw new LoraException("lora.targets: " + cfg.targets() + (cfg.headConvs() ? " + head_convs" : "")
                    + " match no layer of the model");
        }
        // each target must match something: [re:typo] with head_convs would otherwise train the head alone
        for (TargetSpec t : cfg.targetSpecs()) {
            BiPredicate<String, Module> one = target(t);
            if (model.namedModules().entrySet().stream().noneMatch(e -> one.test(e.getKey(), e.getValue()))) {
                throw new LoraException("lora.targets: " + t.text() + " matches no layer of the model (" + names.size()
                        + " layers matched by the other targets; remove it or fix the pattern)");
            }
        }
        LoraModel lm = attach(model, cfg, names, seed, manager);
        LinkedHashMap<String, Parameter> full = trainedParameters(model, cfg, lm.adaptedNames());
        if (cfg.trainModulesInit() == LoraConfig.TrainModulesInit.random && !full.isEmpty()) {
            // a fresh start for the fully trained modules (the official metric script's new head)
            Map<String, long[]> shapes = new LinkedHashMap<>();
            full.forEach((n, p) -> shapes.put(n, p.array().getShape().getShape()));
            RandomWeights.of(shapes, seed).forEach((n, t) -> LoraLayer.setData(full.get(n).array(), t.data()));
        }
        lm.trainFully(full);
        return lm;
    }

    /**
     * The base parameters {@code lora.train_modules} names ({@link ModuleSelector}: every parameter
     * under a named module, or whose name or module's name a {@code re:<regex>} matches whole). Each
     * entry must match something (else an error naming the near names), and none may hold an
     * adapted layer (train it fully or adapt it, not both).
     */
    static LinkedHashMap<String, Parameter> trainedParameters(Module model, LoraConfig cfg, List<String> adapted) {
        LinkedHashMap<String, Parameter> out = new LinkedHashMap<>();
        if (cfg.trainModules().isEmpty()) {
            return out;
        }
        Map<String, Parameter> params = model.namedParameters();
        Set<String> adaptedModules = new HashSet<>();
        adapted.forEach(a -> adaptedModules.add(QkvSlice.moduleOf(a)));
        List<ModuleSelector> selectors = cfg.trainModuleSelectors();
        List<List<String>> selected = ModuleSelector.selectAll("lora.train_modules", "module of the model", selectors,
                params.keySet());
        for (int i = 0; i < selectors.size(); i++) {
            for (String p : selected.get(i)) {
                String module = p.substring(0, Math.max(0, p.lastIndexOf('.')));
                if (adaptedModules.contains(module)) {
                    throw new LoraException("lora.train_modules: " + selectors.get(i) + " holds " + module
                            + ", which lora.targets adapts; train a module fully or adapt it, not both");
                }
                out.put(p, params.get(p));
            }
        }
        return out;
    }

    /** Attaches the adapters of a saved checkpoint (exactly its adapted modules) and loads its tensors. */
    public static LoraModel apply(Module model, AdapterCheckpoint checkpoint, NDManager manager) {
        LoraConfig cfg = checkpoint.config().lora();
        LoraModel lm = attach(model, cfg, checkpoint.config().adaptedModules(), 0, manager);
        lm.trainFully(trainedParameters(model, cfg, lm.adaptedNames()));
        lm.loadAdapterTensors(checkpoint.tensors(), checkpoint.dir() + "/" + AdapterCheckpoint.WEIGHTS);
        return lm;
    }

    static LoraModel attach(Module model, LoraConfig cfg, List<String> names, long seed, NDManager manager) {
        Map<String, Module> modules = model.namedModules();
        LinkedHashMap<String, LoraLayer> layers = new LinkedHashMap<>();
        Map<String, QkvSliceAdapter> sliced = new LinkedHashMap<>();
        for (String name : names) {
            QkvSlice slice = QkvSlice.parse(name);
            Module m = modules.get(QkvSlice.moduleOf(name));
            if (slice != null) {
                if (!(m instanceof Linear lin)) {
                    throw new LoraException(name + ": " + (m == null ? "no such module in the model"
                            : "not a linear layer, cannot adapt a q/k/v slice of it"));
                }
                QkvSliceAdapter group = sliced.get(slice.module());
                if (group == null) {
                    if (lin.adapter() != null) {
                        throw new LoraException(slice.module() + ": already has an adapter");
                    }
                    group = new QkvSliceAdapter();
                    sliced.put(slice.module(), group);
                    lin.setAdapter(group);
                }
                LoraLinear l = new LoraLinear(name, lin, slice, LoraScaling.of(cfg, name), cfg, seed, manager);
                group.put(slice, l);
                layers.put(name, l);
            } else if (m instanceof Linear lin) {
                if (lin.adapter() != null) {
                    throw new LoraException(name + ": already has an adapter");
                }
                LoraLinear l = new LoraLinear(name, lin, null, LoraScaling.of(cfg, name), cfg, seed, manager);
                lin.setAdapter(l);
                layers.put(name, l);
            } else if (m instanceof Conv2d conv) {
                if (cfg.dora()) {
                    throw new LoraException(name + ": lora.dora adapts linear layers only, not convolutions");
                }
                if (conv.adapter() != null) {
                    throw new LoraException(name + ": already has an adapter");
                }
                LoraConv2d l = new LoraConv2d(name, conv, LoraScaling.of(cfg, name), cfg, seed, manager);
                conv.setAdapter(l);
                layers.put(name, l);
            } else {
                throw new LoraException(name + ": " + (m == null ? "no such module in the model"
                        : "not a linear or convolution layer, cannot adapt it"));
            }
        }
        return new LoraModel(model, cfg, layers);
    }

    /** The predicate over (full name, module) that a config's targets describe (slices apart). */
    static BiPredicate<String, Module> matcher(LoraConfig cfg) {
        List<BiPredicate<String, Module>> parts = new ArrayList<>();
        for (TargetSpec t : cfg.targetSpecs()) {
            if (t.kind() != TargetSpec.Kind.SLICES) {
                parts.add(target(t));
            }
        }
        if (cfg.headConvs()) {
            parts.add((n, m) -> m instanceof Conv2d && DepthAnythingV2.inHead(n));
        }
        return (n, m) -> parts.stream().anyMatch(p -> p.test(n, m));
    }

    /** The q/k/v parts (0, 1, 2, in that order) named by {@code qkv:...} targets; empty if none. */
    static List<Integer> sliceParts(LoraConfig cfg) {
        TreeSet<Integer> parts = new TreeSet<>();
        for (TargetSpec t : cfg.targetSpecs()) {
            parts.addAll(t.parts());
        }
        return new ArrayList<>(parts);
    }

    /** The layers one target names: a slice target names the fused qkv layers it slices. */
    static BiPredicate<String, Module> target(TargetSpec t) {
        return switch (t.kind()) {
            case REGEX -> (n, m) -> (m instanceof Linear || m instanceof Conv2d) && t.matches(n);
            case SLICES -> linearEndingWith(".attn.qkv");
            case WORD -> switch (t.text()) {
                case "qkv" -> linearEndingWith(".attn.qkv");
                case "proj" -> linearEndingWith(".attn.proj");
                case "fc1" -> linearEndingWith(".mlp.fc1");
                case "fc2" -> linearEndingWith(".mlp.fc2");
                case "attention" -> linearEndingWith(".attn.qkv").or(linearEndingWith(".attn.proj"));
                case "mlp" -> linearEndingWith(".mlp.fc1").or(linearEndingWith(".mlp.fc2"));
                case "linear" -> (n, m) -> m instanceof Linear && DepthAnythingV2.inBackbone(n);
                default -> throw new IllegalStateException("target word without layers: " + t.text());
            };
        };
    }

    private static BiPredicate<String, Module> linearEndingWith(String suffix) {
        return (n, m) -> m instanceof Linear && n.endsWith(suffix);
    }
}
