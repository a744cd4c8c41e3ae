package com.loratool.config;

import com.loratool.KeySuggester;
import com.loratool.LoraException;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * LoRA settings, the {@code lora:} section of a run config (PEFT's {@code LoraConfig}).
 *
 * <p>Adapted layer: {@code y = W x + b + scaling * B A dropout(x)}, the scaling from each layer's
 * (r, alpha, rslora) by {@code lora.LoraScaling}. A is (r, in), B is (out, r); B starts at zero so
 * the adapted model equals the base at step 0.
 */
public class LoraConfig {
    /** Target words (besides {@code re:<regex>}); lora.LoraInjector maps them to layers. */
    public static final List<String> TARGET_WORDS = List.of("qkv", "proj", "fc1", "fc2", "attention", "mlp", "linear");

    /** Rank r. */
    public int r = 8;
    /** alpha (PEFT's lora_alpha). */
    public double alpha = 8;
    /** Dropout on the adapter's input during training. */
    public double dropout = 0.0;
    /**
     * Layers to adapt: qkv, proj, fc1, fc2; shorthands attention (qkv+proj), mlp (fc1+fc2),
     * linear (every encoder linear layer); or {@code re:<regex>} over full module names.
     */
    public List<String> targets = new ArrayList<>(List.of("qkv"));
    /** Rank-stabilised scaling (alpha over sqrt of r instead of over r). */
    public boolean rslora = false;
    /** A's initialisation: kaiming (uniform, a=sqrt 5, like nn.Linear and PEFT) or gaussian (N(0, 1/r)). */
    public String init = "kaiming";
    /** Also adapt every convolution of the DPT head (conv LoRA: k x k conv to r channels, then 1x1). */
    public boolean headConvs = false;

    /** Checks ranges; {@code where} prefixes the messages (e.g. the config file). */
    public void validate(String where) {
        if (r < 1) {
            throw new LoraException(where + "lora.r: must be >= 1, got " + r);
        }
        if (!(alpha > 0)) {
            throw new LoraException(where + "lora.alpha: must be > 0, got " + alpha);
        }
        if (!(dropout >= 0 && dropout < 1)) {
            throw new LoraException(where + "lora.dropout: must be in [0, 1), got " + dropout);
        }
        if (!init.equals("kaiming") && !init.equals("gaussian")) {
            throw new LoraException(where + "lora.init: must be kaiming or gaussian, got " + init);
        }
        if ((targets == null || targets.isEmpty()) && !headConvs) {
            throw new LoraException(where + "lora.targets: empty (name at least one layer, e.g. [qkv])");
        }
        for (String t : targets == null ? List.<String>of() : targets) {
            String s = t == null ? "" : t.trim();
            if (s.startsWith("re:")) {
                try {
                    Pattern.compile(s.substring(3));
                } catch (PatternSyntaxException e) {
                    throw new LoraException(where + "lora.targets: bad regular expression " + s + ": " + e.getDescription());
                }
            } else if (!TARGET_WORDS.contains(s)) {
                String hint = KeySuggester.closest(s, TARGET_WORDS);
                throw new LoraException(where + "lora.targets: unknown target '" + s + "'"
                        + (hint != null ? ", did you mean " + hint + "?" : "")
                        + " (valid: " + String.join(", ", TARGET_WORDS) + ", re:<regex>)");
            }
        }
    }
}
