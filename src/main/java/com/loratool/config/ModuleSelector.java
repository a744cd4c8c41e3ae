package com.loratool.config;

import com.google.re2j.Pattern;
import com.loratool.KeySuggester;
import com.loratool.LoraException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One entry of {@code lora.train_modules} or one key of {@code train.lr_multipliers}, parsed: the
 * one grammar of module patterns (parsed like {@link TargetSpec}: trimmed, {@code re:} through
 * {@link UserPattern}) and its one matcher, used by the sections' validation, by the injection
 * (lora.LoraInjector) and by the optimiser's learning-rate factors.
 *
 * <ul>
 *   <li>a name: the parameter of that full official name, or every parameter under the module of
 *       that name ({@code depth_head}, {@code pretrained.blocks.0});
 *   <li>{@code re:<regex>}: every parameter whose name, or the name of a module holding it, the
 *       regex matches whole (RE2 syntax, linear time).
 * </ul>
 *
 * A selector that selects nothing is an error naming it and the near names ({@link #noMatch}).
 *
 * @param text the entry as written, trimmed
 * @param regex the compiled pattern of a {@code re:} entry, else null
 */
public record ModuleSelector(String text, Pattern regex) {
    public static final String REGEX_PREFIX = "re:";

    /** Parses one entry; {@code key} ({@code lora.train_modules}) names the setting in errors. */
    public static ModuleSelector parse(String key, String entry) {
        String s = entry == null ? "" : entry.trim();
        if (s.isEmpty() || s.equals(REGEX_PREFIX)) {
            throw new ConfigError(key, "empty module name");
        }
        if (s.startsWith(REGEX_PREFIX)) {
            return new ModuleSelector(s, UserPattern.compile(key, s, s.substring(REGEX_PREFIX.length())));
        }
        return new ModuleSelector(s, null);
    }

    /** Parses every entry in order; one written twice (after trimming) is refused. */
    public static List<ModuleSelector> parseAll(String key, Collection<String> entries) {
        Map<String, ModuleSelector> out = new LinkedHashMap<>();
        for (String e : entries) {
            ModuleSelector s = parse(key, e);
            if (out.putIfAbsent(s.text, s) != null) {
                throw new ConfigError(key, "'" + s.text + "' named twice");
            }
        }
        return List.copyOf(out.values());
    }

    /**
     * The name this selects {@code param} by: the parameter's own name or that of a module holding
     * it (a dotted prefix), the outermost first; null when it does not select it.
     */
    public String owner(String param) {
        int dot = -1;
        while (true) {
            dot = param.indexOf('.', dot + 1);
            String name = dot < 0 ? param : param.substring(0, dot);
            if (regex != null ? regex.matches(name) : name.equals(text)) {
                return name;
            }
            if (dot < 0) {
                return null;
            }
        }
    }

    public boolean selects(String param) {
        return owner(param) != null;
    }

    /**
     * The error for a selector that selects none of {@code params}: {@code "<key>: '<text>' matches
     * no <what> (<hint>)"}, the hint naming near module or parameter names ({@link KeySuggester}),
     * the names a regex matches only part of, or else the top-level modules.
     */
    public LoraException noMatch(String key, String what, Collection<String> params) {
        Set<String> names = new LinkedHashSet<>();
        Set<String> top = new LinkedHashSet<>();
        for (String p : params) {
            int dot = -1;
            do {
                dot = p.indexOf('.', dot + 1);
                names.add(dot < 0 ? p : p.substring(0, dot));
            } while (dot >= 0);
            top.add(p.contains(".") ? p.substring(0, p.indexOf('.')) : p);
        }
        String hint;
        List<String> near;
        if (regex != null) {
            near = new ArrayList<>();
            for (String n : names.stream().filter(n -> regex.matcher(n).find())
                    .sorted(Comparator.comparingInt(String::length).thenComparing(Comparator.naturalOrder())).toList()) {
                if (near.size() < 3 && near.stream().noneMatch(m -> n.startsWith(m + "."))) {
                    near.add(n); // the outermost names only: what lies under them matches inside too
                }
            }
            hint = near.isEmpty() ? null : "a re: pattern must match a whole name; it matches inside "
                    + String.join(", ", near);
        } else {
            near = KeySuggester.near(text, names, 3);
            hint = near.isEmpty() ? null : "did you mean " + String.join(" or ", near) + "?";
        }
        if (hint == null) {
            hint = (what.startsWith("trainable") ? "trainable modules: " : "top-level modules: ") + String.join(", ", top);
        }
        return new ConfigError(key, "'" + text + "' matches no " + what + " (" + hint + ")");
    }

    /**
     * The names of {@code params} each selector selects, in order; a selector that selects nothing
     * is refused ({@link #noMatch}).
     */
    public static List<List<String>> selectAll(String key, String what, List<ModuleSelector> selectors,
            Collection<String> params) {
        List<List<String>> out = new ArrayList<>();
        for (ModuleSelector s : selectors) {
            List<String> hit = params.stream().filter(s::selects).toList();
            if (hit.isEmpty()) {
                throw s.noMatch(key, what, params);
            }
            out.add(hit);
        }
        return out;
    }

    @Override
    public String toString() {
        return text;
    }
}
