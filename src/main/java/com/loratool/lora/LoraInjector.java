package com.loratool.lora;

import ai.djl.ndarray.NDManager;
import com.loratool.KeySuggester;
import com.loratool.LoraException;
import com.loratool.config.LoraConfig;
import com.loratool.model.nn.Conv2d;
import com.loratool.model.nn.Linear;
import com.loratool.model.nn.Module;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiPredicate;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * Finds the layers a {@link LoraConfig} targets by their official module names and attaches
 * adapters to them (PEFT's injection). Target words: {@code qkv}, {@code proj}, {@code fc1},
 * {@code fc2}; {@code attention} (qkv + proj), {@code mlp} (fc1 + fc2), {@code linear} (every
 * linear layer of the encoder); {@code re:<regex>} matched against whole module names (linear or
 * conv layers); {@code head_convs: true} adds every convolution of the DPT head.
 */
public final class LoraInjector {
    private LoraInjector() {}

    static final List<String> WORDS = LoraConfig.TARGET_WORDS;

    /** Attaches fresh adapters (B = 0, A seeded) to the targeted layers; arrays live in {@code manager}. */
    public static LoraModel inject(Module model, LoraConfig cfg, long seed, NDManager manager) {
        BiPredicate<String, Module> wanted = matcher(cfg);
        List<String> names = new ArrayList<>();
        for (Map.Entry<String, Module> e : model.namedModules().entrySet()) {
            if (wanted.test(e.getKey(), e.getValue())) {
                names.add(e.getKey());
            }
        }
        if (names.isEmpty()) {
            throw new LoraException("lora.targets: " + cfg.targets + (cfg.headConvs ? " + head_convs" : "")
                    + " match no layer of the model");
        }
        // each target must match something: [re:typo] with head_convs would otherwise train the head alone
        for (String t : cfg.targets == null ? List.<String>of() : cfg.targets) {
            BiPredicate<String, Module> one = target(t.trim());
            if (model.namedModules().entrySet().stream().noneMatch(e -> one.test(e.getKey(), e.getValue()))) {
                throw new LoraException("lora.targets: " + t + " matches no layer of the model (" + names.size()
                        + " layers matched by the other targets; remove it or fix the pattern)");
            }
        }
        return attach(model, cfg, names, seed, manager);
    }

    /** Attaches the adapters of a saved checkpoint (exactly its adapted modules) and loads its tensors. */
    public static LoraModel apply(Module model, AdapterCheckpoint checkpoint, NDManager manager) {
        LoraConfig cfg = checkpoint.config().toLoraConfig();
        LoraModel lm = attach(model, cfg, checkpoint.config().adaptedModules, 0, manager);
        lm.loadAdapterTensors(checkpoint.tensors(), checkpoint.dir() + "/" + AdapterCheckpoint.WEIGHTS);
        return lm;
    }

    static LoraModel attach(Module model, LoraConfig cfg, List<String> names, long seed, NDManager manager) {
        Map<String, Module> modules = model.namedModules();
        LinkedHashMap<String, LoraLayer> layers = new LinkedHashMap<>();
        for (String name : names) {
            Module m = modules.get(name);
            if (m instanceof Linear lin) {
                if (lin.adapter() != null) {
                    throw new LoraException(name + ": already has an adapter");
                }
                LoraLinear l = new LoraLinear(name, lin, LoraScaling.of(cfg, name), cfg, seed, manager);
                lin.setAdapter(l);
                layers.put(name, l);
            } else if (m instanceof Conv2d conv) {
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

    /** The predicate over (full name, module) that a config's targets describe. */
    static BiPredicate<String, Module> matcher(LoraConfig cfg) {
        List<BiPredicate<String, Module>> parts = new ArrayList<>();
        for (String t : cfg.targets == null ? List.<String>of() : cfg.targets) {
            parts.add(target(t.trim()));
        }
        if (cfg.headConvs) {
            parts.add((n, m) -> m instanceof Conv2d && n.startsWith("depth_head."));
        }
        return (n, m) -> parts.stream().anyMatch(p -> p.test(n, m));
    }

    private static BiPredicate<String, Module> target(String t) {
        if (t.startsWith("re:")) {
            Pattern p;
            try {
                p = Pattern.compile(t.substring(3));
            } catch (PatternSyntaxException e) {
                throw new LoraException("lora.targets: bad regular expression " + t + ": " + e.getDescription());
            }
            return (n, m) -> (m instanceof Linear || m instanceof Conv2d) && p.matcher(n).matches();
        }
        return switch (t) {
            case "qkv" -> linearEndingWith(".attn.qkv");
            case "proj" -> linearEndingWith(".attn.proj");
            case "fc1" -> linearEndingWith(".mlp.fc1");
            case "fc2" -> linearEndingWith(".mlp.fc2");
            case "attention" -> linearEndingWith(".attn.qkv").or(linearEndingWith(".attn.proj"));
            case "mlp" -> linearEndingWith(".mlp.fc1").or(linearEndingWith(".mlp.fc2"));
            case "linear" -> (n, m) -> m instanceof Linear && n.startsWith("pretrained.");
            default -> {
                String hint = KeySuggester.closest(t, WORDS);
                throw new LoraException("lora.targets: unknown target '" + t + "'"
                        + (hint != null ? ", did you mean " + hint + "?" : "")
                        + " (valid: " + String.join(", ", WORDS) + ", re:<regex>)");
            }
        };
    }

    private static BiPredicate<String, Module> linearEndingWith(String suffix) {
        return (n, m) -> m instanceof Linear && n.endsWith(suffix);
    }
}
