package com.loratool.lora.export;

import com.fasterxml.jackson.databind.JsonNode;
import com.google.re2j.Matcher;
import com.google.re2j.Pattern;
import com.loratool.KeySuggester;
import com.loratool.LoraException;
import com.loratool.config.LoraConfig;
import com.loratool.config.UserPattern;
import com.loratool.io.Printable;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * PEFT's {@code adapter_config.json} for a LoRA adapter, read strictly (issue 27): each key the
 * import uses has its type and range checked (a missing key takes PEFT's default; {@code null} is
 * refused where PEFT's dataclass needs a value), and the target modules are matched, with PEFT's
 * own rules ({@code check_target_module_exists}: a regular expression matched whole, else a name
 * equal to the module's or ending it after a dot, {@code layers_to_transform} /
 * {@code layers_pattern} for the latter, {@code exclude_modules}), against the model's layers and
 * against the tensors present. Every refusal is one line "{@code <file>: <key>: <problem>}".
 *
 * @param file adapter_config.json, for messages
 * @param r PEFT's {@code r}: an integer in [1, {@link LoraConfig#MAX_RANK}], default 8
 * @param alpha {@code lora_alpha}: a number in (0, {@link LoraConfig#MAX_ALPHA}], default 8
 * @param rankPattern {@code rank_pattern}: key → r, in the order written
 * @param alphaPattern {@code alpha_pattern}: key → alpha, in the order written
 * @param modulesToSave {@code modules_to_save}, empty when null
 */
public record PeftConfig(Path file, int r, double alpha, boolean rslora, boolean dora, JsonNode targetModules,
                         JsonNode excludeModules, List<Integer> layersToTransform, List<String> layersPattern,
                         LinkedHashMap<String, Integer> rankPattern, LinkedHashMap<String, Double> alphaPattern,
                         List<String> modulesToSave) {

    /** PEFT's shorthand for every linear layer but the output layer (DepthAnything has none). */
    static final String ALL_LINEAR = "all-linear";
    /** PEFT's layer index when {@code layers_pattern} is unset: the last {@code .<name>.<n>.}. */
    private static final Pattern ANY_LAYER = Pattern.compile(".*\\.[^.]*\\.(\\d+)\\.");

    /** Reads the JSON object of an adapter_config.json; {@code file} names it in errors. */
    public static PeftConfig of(JsonNode c, Path file) {
        String type = c.has("peft_type") ? text(c, "peft_type", file) : "LORA";
        if (!"LORA".equals(type)) {
            throw error(file, "peft_type", "is " + Printable.of(type) + ", only LORA adapters can be imported");
        }
        if (bool(c, "fan_in_fan_out", file)) {
            throw error(file, "fan_in_fan_out", "true: such adapters cannot be imported");
        }
        if (c.has("bias") && !"none".equals(text(c, "bias", file))) {
            throw error(file, "bias", "is " + Printable.of(c.get("bias").asText()) + "; only adapters without bias"
                    + " (\"none\") can be imported");
        }
        JsonNode tp = c.get("target_parameters");
        if (tp != null && !tp.isNull() && !(tp.isArray() && tp.isEmpty())) {
            throw error(file, "target_parameters", "adapters of parameters (not modules) cannot be imported");
        }
        int r = rank(c.get("r"), "r", 8, file);
        double alpha = alpha(c.get("lora_alpha"), "lora_alpha", 8, file);
        JsonNode targets = c.get("target_modules");
        if (targets == null || targets.isNull()) {
            throw error(file, "target_modules", "missing (PEFT lists the adapted modules there)");
        }
        if (!targets.isTextual() && !isStringList(targets)) {
            throw error(file, "target_modules", "must be a regular expression or a list of module names, got "
                    + shown(targets));
        }
        if (isRegex(targets)) {
            UserPattern.compile(file + ": target_modules", "'" + targets.asText() + "'", targets.asText());
        }
        JsonNode exclude = c.get("exclude_modules");
        if (exclude != null && !exclude.isNull()) {
            if (!exclude.isTextual() && !isStringList(exclude)) {
                throw error(file, "exclude_modules", "must be a regular expression or a list of module names, got "
                        + shown(exclude));
            }
            if (exclude.isTextual()) {
                UserPattern.compile(file + ": exclude_modules", "'" + exclude.asText() + "'", exclude.asText());
            }
        } else {
            exclude = null;
        }
        List<Integer> layers = layers(c.get("layers_to_transform"), file);
        List<String> layersPattern = strings(c.get("layers_pattern"), "layers_pattern", true, file);
        for (String p : layersPattern) {
            UserPattern.compile(file + ": layers_pattern", "'" + p + "'", p);
        }
        LinkedHashMap<String, Integer> rankPattern = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> e : entries(c.get("rank_pattern"), "rank_pattern", file)) {
            LoraConfig.patternOf(file + ": rank_pattern", e.getKey());
            rankPattern.put(e.getKey(), rank(e.getValue(), "rank_pattern." + e.getKey(), null, file));
        }
        LinkedHashMap<String, Double> alphaPattern = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> e : entries(c.get("alpha_pattern"), "alpha_pattern", file)) {
            LoraConfig.patternOf(file + ": alpha_pattern", e.getKey());
            alphaPattern.put(e.getKey(), alpha(e.getValue(), "alpha_pattern." + e.getKey(), null, file));
        }
        List<String> save = strings(c.get("modules_to_save"), "modules_to_save", false, file);
        return new PeftConfig(file, r, alpha, bool(c, "use_rslora", file), bool(c, "use_dora", file), targets, exclude,
                layers, layersPattern, rankPattern, alphaPattern, save);
    }

    /** r and alpha of a module (its full HF name): the first matching rank_pattern / alpha_pattern key, else r / alpha. */
    int rankOf(String module) {
        Integer v = LoraConfig.lookup(rankPattern, module);
        return v != null ? v : r;
    }

    double alphaOf(String module) {
        Double v = LoraConfig.lookup(alphaPattern, module);
        return v != null ? v : alpha;
    }

    /**
     * PEFT's {@code check_target_module_exists}, its patterns compiled and its name lists read once per
     * {@link #check} ({@code linear}: the last names of the model's linear layers, for {@code all-linear}).
     */
    private final class Selection {
        private final Pattern exclude; // exclude_modules as a regular expression, else null
        private final List<String> excludeNames; // exclude_modules as names, else empty
        private final Pattern target; // target_modules as a regular expression (not all-linear), else null
        private final List<String> targetNames; // target_modules as names (all-linear: the linear layers' names)
        private final List<Pattern> layerPatterns;

        Selection(Set<String> linear) {
            boolean excludeRegex = excludeModules != null && excludeModules.isTextual();
            exclude = excludeRegex ? compiled("exclude_modules", excludeModules.asText()) : null;
            excludeNames = excludeModules != null && !excludeRegex ? strings(excludeModules) : List.of();
            target = isRegex(targetModules) ? compiled("target_modules", targetModules.asText()) : null;
            targetNames = target != null ? List.of() : targetModules.isTextual() ? List.copyOf(linear)
                    : strings(targetModules);
            List<Pattern> patterns = new ArrayList<>();
            for (String p : layersPattern) {
                patterns.add(UserPattern.compile(file + ": layers_pattern", "'" + p + "'", ".*\\." + p + "\\.(\\d+)\\."));
            }
            layerPatterns = patterns.isEmpty() ? List.of(ANY_LAYER) : List.copyOf(patterns);
        }

        /** Whether PEFT adapts the module {@code key} (its full HF name). */
        boolean targets(String key) {
            if (exclude != null ? exclude.matches(key) : listed(excludeNames, key)) {
                return false;
            }
            if (target != null) {
                return target.matches(key);
            }
            if (targetNames.contains(key)) {
                return true;
            }
            if (targetNames.stream().noneMatch(t -> key.endsWith("." + t))) {
                return false;
            }
            if (layersToTransform.isEmpty()) {
                return true;
            }
            Integer layer = layerIndex(key);
            return layer != null && layersToTransform.contains(layer);
        }

        /** The layer number PEFT reads from a module name ({@code layers_pattern}, else the last {@code .<name>.<n>.}). */
        Integer layerIndex(String key) {
            for (Pattern p : layerPatterns) {
                Matcher m = p.matcher(key);
                if (m.lookingAt()) {
                    try {
                        return Integer.parseInt(m.group(1));
                    } catch (NumberFormatException e) {
                        return null;
                    }
                }
            }
            return null;
        }
    }

    /** A textual target_modules other than {@code all-linear}: a regular expression matched whole. */
    private static boolean isRegex(JsonNode targets) {
        return targets.isTextual() && !targets.asText().equalsIgnoreCase(ALL_LINEAR);
    }

    private Pattern compiled(String key, String regex) {
        return UserPattern.compile(file + ": " + key, "'" + regex + "'", regex);
    }

    /**
     * Checks the targets against the model's layers ({@code layers}: full HF names of its linear
     * and convolution layers, each true when linear; null when unknown) and the adapters present ({@code adapted}:
     * full HF module names holding lora_A / lora_B): each target name and each listed layer exists,
     * and the modules the config selects are exactly those that hold adapters.
     */
    void check(Map<String, Boolean> layers, Collection<String> adapted) {
        Set<String> model = layers != null ? layers.keySet() : new LinkedHashSet<>(adapted);
        Set<String> linear = new LinkedHashSet<>();
        for (String m : model) {
            if (layers == null || layers.get(m)) {
                linear.add(m.substring(m.lastIndexOf('.') + 1));
            }
        }
        for (String m : adapted) {
            if (!model.contains(m)) {
                throw LoraException.file(file.resolveSibling("adapter_model.safetensors"), "holds an adapter for " + m
                        + ", which is not a linear or convolution layer of the base model");
            }
        }
        Selection selection = new Selection(linear);
        String where = layers != null ? "linear or convolution layer of the model" : "module of adapter_model.safetensors";
        if (selection.target != null) {
            if (model.stream().noneMatch(m -> selection.target.matches(m))) {
                throw error(file, "target_modules", "'" + Printable.of(targetModules.asText()) + "' matches no " + where);
            }
        } else if (targetModules.isArray()) {
            Set<String> suffixes = new LinkedHashSet<>();
            for (String m : model) {
                for (int dot = m.indexOf('.'); dot >= 0; dot = m.indexOf('.', dot + 1)) {
                    suffixes.add(m.substring(dot + 1));
                }
            }
            for (String t : strings(targetModules)) {
                if (!model.contains(t) && !suffixes.contains(t)) {
                    List<String> near = KeySuggester.near(t, suffixes, 3);
                    throw error(file, "target_modules", "'" + Printable.of(t) + "' matches no " + where
                            + (near.isEmpty() ? "" : " (did you mean " + String.join(" or ", near) + "?)"));
                }
            }
        }
        if (!layersToTransform.isEmpty() && selection.target == null) {
            TreeSet<Integer> present = new TreeSet<>();
            for (String m : model) {
                Integer i = selection.layerIndex(m);
                if (i != null) {
                    present.add(i);
                }
            }
            for (int i : layersToTransform) {
                if (!present.contains(i)) {
                    throw error(file, "layers_to_transform", present.isEmpty() ? "the model has no numbered layers"
                            : "the model has no layer " + i + " (layers " + present.first() + " to " + present.last() + ")");
                }
            }
        }
        String by = layersToTransform.isEmpty() ? "target_modules"
                : "target_modules with layers_to_transform " + layersToTransform;
        for (String m : adapted) {
            if (!selection.targets(m)) {
                throw error(file, by, "does not select " + m + ", but adapter_model.safetensors holds an adapter for it");
            }
        }
        if (layers != null) {
            for (String m : model) {
                if (selection.targets(m) && !adapted.contains(m)) {
                    throw error(file, by, "selects " + m + ", but adapter_model.safetensors holds no adapter for it");
                }
            }
        }
    }

    private static boolean listed(List<String> names, String key) {
        return names.contains(key) || names.stream().anyMatch(t -> key.endsWith("." + t));
    }

    private static LoraException error(Path file, String key, String problem) {
        return LoraException.file(file, key + ": " + problem);
    }

    /** The value as written in JSON (strings quoted), cut for a message. */
    private static String shown(JsonNode n) {
        return n == null ? "null" : Printable.of(n.toString());
    }

    private static int rank(JsonNode n, String key, Integer dflt, Path file) {
        if (n == null && dflt != null) {
            return dflt;
        }
        if (n == null || !n.isIntegralNumber() || !n.canConvertToInt() || n.intValue() < 1
                || n.intValue() > LoraConfig.MAX_RANK) {
            throw error(file, key, "must be an integer from 1 to " + LoraConfig.MAX_RANK + ", got " + shown(n));
        }
        return n.intValue();
    }

    private static double alpha(JsonNode n, String key, Integer dflt, Path file) {
        if (n == null && dflt != null) {
            return dflt;
        }
        if (n == null || !n.isNumber() || !(n.doubleValue() > 0) || !Double.isFinite(n.doubleValue())) {
            throw error(file, key, "must be a number > 0, got " + shown(n));
        }
        if (n.doubleValue() > LoraConfig.MAX_ALPHA) {
            throw error(file, key, "must be at most " + (long) LoraConfig.MAX_ALPHA + ", got " + shown(n));
        }
        return n.doubleValue();
    }

    private static boolean bool(JsonNode c, String key, Path file) {
        JsonNode n = c.get(key);
        if (n == null) {
            return false;
        }
        if (!n.isBoolean()) {
            throw error(file, key, "must be true or false, got " + shown(n));
        }
        return n.booleanValue();
    }

    private static String text(JsonNode c, String key, Path file) {
        JsonNode n = c.get(key);
        if (n == null || !n.isTextual()) {
            throw error(file, key, "must be a string, got " + shown(n));
        }
        return n.asText();
    }

    private static boolean isStringList(JsonNode n) {
        if (!n.isArray()) {
            return false;
        }
        for (JsonNode e : n) {
            if (!e.isTextual()) {
                return false;
            }
        }
        return true;
    }

    private static List<String> strings(JsonNode n) {
        List<String> out = new ArrayList<>();
        n.forEach(e -> out.add(e.asText()));
        return out;
    }

    /** null or absent → empty; a list of strings (or, with {@code single}, one string). */
    private static List<String> strings(JsonNode n, String key, boolean single, Path file) {
        if (n == null || n.isNull()) {
            return List.of();
        }
        if (single && n.isTextual()) {
            return List.of(n.asText());
        }
        if (!isStringList(n)) {
            throw error(file, key, "must be " + (single ? "a string or " : "") + "a list of strings, got " + shown(n));
        }
        return strings(n);
    }

    private static List<Integer> layers(JsonNode n, Path file) {
        if (n == null || n.isNull()) {
            return List.of();
        }
        List<JsonNode> items = new ArrayList<>();
        if (n.isArray()) {
            n.forEach(items::add);
        } else {
            items.add(n);
        }
        List<Integer> out = new ArrayList<>();
        for (JsonNode e : items) {
            if (!e.isIntegralNumber() || !e.canConvertToInt() || e.intValue() < 0) {
                throw error(file, "layers_to_transform", "must be an integer >= 0 or a list of them, got " + shown(n));
            }
            out.add(e.intValue());
        }
        return List.copyOf(out);
    }

    private static List<Map.Entry<String, JsonNode>> entries(JsonNode n, String key, Path file) {
        List<Map.Entry<String, JsonNode>> out = new ArrayList<>();
        if (n == null || n.isNull()) {
            return out;
        }
        if (!n.isObject()) {
            throw error(file, key, "must be a mapping of module patterns to values, got " + shown(n));
        }
        n.fields().forEachRemaining(out::add);
        return out;
    }
}
