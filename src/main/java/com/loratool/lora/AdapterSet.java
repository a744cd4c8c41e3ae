package com.loratool.lora;

import com.loratool.LoraException;
import com.loratool.io.HostTensor;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * The adapters of a checkpoint by official module name ({@code pretrained.blocks.0.attn.qkv}),
 * read from / written to the flat tensor map of {@code adapter.safetensors}
 * ({@code <module>.lora_A.weight}, {@code <module>.lora_B.weight}).
 */
public record AdapterSet(LinkedHashMap<String, LoraPair> layers) {
    public static final String A_SUFFIX = ".lora_A.weight";
    public static final String B_SUFFIX = ".lora_B.weight";

    /** Groups the tensors into pairs; {@code file} names the source in errors. */
    public static AdapterSet fromTensors(Map<String, HostTensor> tensors, Path file) {
        Map<String, HostTensor> as = new TreeMap<>();
        Map<String, HostTensor> bs = new TreeMap<>();
        for (Map.Entry<String, HostTensor> e : tensors.entrySet()) {
            String k = e.getKey();
            if (k.endsWith(A_SUFFIX)) {
                as.put(k.substring(0, k.length() - A_SUFFIX.length()), e.getValue());
            } else if (k.endsWith(B_SUFFIX)) {
                bs.put(k.substring(0, k.length() - B_SUFFIX.length()), e.getValue());
            } else {
                throw LoraException.file(file, "unexpected tensor '" + k + "' (adapter files hold only "
                        + "<module>.lora_A.weight and <module>.lora_B.weight)");
            }
        }
        LinkedHashMap<String, LoraPair> layers = new LinkedHashMap<>();
        for (Map.Entry<String, HostTensor> e : as.entrySet()) {
            HostTensor b = bs.remove(e.getKey());
            if (b == null) {
                throw LoraException.file(file, "'" + e.getKey() + B_SUFFIX + "' is missing");
            }
            try {
                layers.put(e.getKey(), new LoraPair(e.getValue(), b));
            } catch (IllegalArgumentException ex) {
                throw LoraException.file(file, e.getKey() + ": " + ex.getMessage());
            }
        }
        if (!bs.isEmpty()) {
            throw LoraException.file(file, "'" + bs.keySet().iterator().next() + A_SUFFIX + "' is missing");
        }
        if (layers.isEmpty()) {
            throw LoraException.file(file, "no LoRA tensors");
        }
        return new AdapterSet(layers);
    }

    /** The flat tensor map ({@code <module>.lora_A.weight}, {@code <module>.lora_B.weight}). */
    public LinkedHashMap<String, HostTensor> toTensors() {
        LinkedHashMap<String, HostTensor> out = new LinkedHashMap<>();
        layers.forEach((m, p) -> {
            out.put(m + A_SUFFIX, p.a());
            out.put(m + B_SUFFIX, p.b());
        });
        return out;
    }

    /** Largest rank over the layers. */
    public int maxRank() {
        return layers.values().stream().mapToInt(LoraPair::rank).max().orElse(0);
    }
}
