package com.loratool.config;

import com.google.re2j.Pattern;
import com.loratool.KeySuggester;
import java.util.ArrayList;
import java.util.List;

/**
 * One entry of {@code lora.targets}, parsed: the one parser of the target grammar, used by the
 * section's validation ({@link LoraConfig}) and by the injection (lora.LoraInjector), which maps
 * each spec to the model's layers.
 *
 * <ul>
 *   <li>a word, {@link Kind#WORD}: {@code qkv}, {@code proj}, {@code fc1}, {@code fc2},
 *       {@code attention} (qkv + proj), {@code mlp} (fc1 + fc2), {@code linear} (every encoder
 *       linear layer);
 *   <li>{@code re:<regex>}, {@link Kind#REGEX}: matched against whole official module names
 *       (RE2 syntax, linear time: see {@link UserPattern});
 *   <li>{@code qkv:q,v}, {@link Kind#SLICES}: a non-empty subset of q, k, v of every fused
 *       {@code attn.qkv}, each slice its own adapter.
 * </ul>
 *
 * @param text the target as written (trimmed)
 * @param kind which of the three forms
 * @param regex the compiled pattern of a {@code re:} target, else null
 * @param parts the q/k/v indices (0, 1, 2) of a slice target in the order written, else empty
 */
public record TargetSpec(String text, Kind kind, Pattern regex, List<Integer> parts) {
    /** The target words. */
    public static final List<String> WORDS = List.of("qkv", "proj", "fc1", "fc2", "attention", "mlp", "linear");
    /** The parts of a fused qkv, in row order. */
    public static final List<String> SLICE_PARTS = List.of("q", "k", "v");
    public static final String REGEX_PREFIX = "re:";
    public static final String SLICE_PREFIX = "qkv:";

    public enum Kind { WORD, REGEX, SLICES }

    public TargetSpec {
        parts = List.copyOf(parts);
    }

    /** Parses one target; a bad one is refused as {@code lora.targets: ...}. */
    public static TargetSpec parse(String target) {
        String s = target == null ? "" : target.trim();
        if (s.startsWith(REGEX_PREFIX)) {
            return new TargetSpec(s, Kind.REGEX, UserPattern.compile("lora.targets", s, s.substring(REGEX_PREFIX.length())),
                    List.of());
        }
        if (s.startsWith(SLICE_PREFIX)) {
            List<Integer> parts = new ArrayList<>();
            for (String n : s.substring(SLICE_PREFIX.length()).split(",", -1)) {
                int p = SLICE_PARTS.indexOf(n.trim());
                if (p < 0 || parts.contains(p)) {
                    throw new ConfigError("lora.targets", "'" + s + "': " + (p < 0 ? "'" + n.trim() + "' is not q, k or v"
                            : n.trim() + " named twice") + " (write e.g. qkv:q,v)");
                }
                parts.add(p);
            }
            return new TargetSpec(s, Kind.SLICES, null, parts);
        }
        if (!WORDS.contains(s)) {
            String hint = KeySuggester.closest(s, WORDS);
            throw new ConfigError("lora.targets", "unknown target '" + s + "'"
                    + (hint != null ? ", did you mean " + hint + "?" : "")
                    + " (valid: " + String.join(", ", WORDS) + ", re:<regex>, qkv:q,v)");
        }
        return new TargetSpec(s, Kind.WORD, null, List.of());
    }

    /** Parses every target; the slice parts of all {@code qkv:} targets together may name each part once. */
    public static List<TargetSpec> parseAll(List<String> targets) {
        List<TargetSpec> specs = new ArrayList<>();
        List<Integer> sliced = new ArrayList<>();
        for (String t : targets) {
            TargetSpec spec = parse(t);
            for (int p : spec.parts) {
                if (sliced.contains(p)) {
                    throw new ConfigError("lora.targets", "'" + spec.text + "': " + SLICE_PARTS.get(p)
                            + " named twice (write e.g. qkv:q,v)");
                }
                sliced.add(p);
            }
            specs.add(spec);
        }
        return List.copyOf(specs);
    }

    /** A {@code re:} target's whole-name match. */
    public boolean matches(String module) {
        return regex != null && regex.matches(module);
    }
}
