package com.loratool.lora;

import com.loratool.LoraException;
import com.loratool.io.HostTensor;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * The adapters of a checkpoint by official module name ({@code pretrained.blocks.0.attn.qkv}, or a
 * qkv slice {@code pretrained.blocks.0.attn.qkv.q}), read from / written to the flat tensor map of
 * {@code adapter.safetensors} ({@code <module>.lora_A.weight}, {@code <module>.lora_B.weight}, and
 * with DoRA {@code <module>.lora_magnitude_vector}, PEFT's key).
 */
public record AdapterSet(LinkedHashMap<String, LoraPair> layers) {
    public static final String A_SUFFIX = ".lora_A.weight";
    public static final String B_SUFFIX = ".lora_B.weight";
    /** DoRA's magnitude vector, named as PEFT saves it (no {@code .weight}). */
    public static final String M_SUFFIX = ".lora_magnitude_vector";

    /** Groups the tensors into pairs; {@code file} names the source in errors. */
    public static AdapterSet fromTensors(Map<String, HostTensor> tensors, Path file) {
        Map<String, HostTensor> as = new TreeMap<>();
        Map<String, HostTensor> bs = new TreeMap<>();
        Map<String, HostTensor> ms = new TreeMap<>();
        for (Map.Entry<String, HostTensor> e : tensors.entrySet()) {
            String k = e.getKey();
            if (k.endsWith(A_SUFFIX)) {
                as.put(k.substring(0, k.length() - A_SUFFIX.length()), e.getValue());
            } else if (k.endsWith(B_SUFFIX)) {
                bs.put(k.substring(0, k.length() - B_SUFFIX.length()), e.getValue());
            } else if (k.endsWith(M_SUFFIX)) {
                ms.put(k.substring(0, k.length() - M_SUFFIX.length()), e.getValue());
            } else {
                throw LoraException.file(file, "unexpected tensor '" + k + "' (adapter files hold only "
                        + "<module>.lora_A.weight, <module>.lora_B.weight and <module>.lora_magnitude_vector)");
            }
        }
        LinkedHashMap<String, LoraPair> layers = new LinkedHashMap<>();
        for (Map.Entry<String, HostTensor> e : as.entrySet()) {
            HostTensor b = bs.remove(e.getKey());
            if (b == null) {
                throw LoraException.file(file, "'" + e.getKey() + B_SUFFIX + "' is missing");
            }
            try {
                layers.put(e.getKey(), new LoraPair(e.getValue(), b, ms.remove(e.getKey())));
            } catch (IllegalArgumentException ex) {
                throw LoraException.file(file, e.getKey() + ": " + ex.getMessage());
            }
        }
        if (!bs.isEmpty()) {
            throw LoraException.file(file, "'" + bs.keySet().iterator().next() + A_SUFFIX + "' is missing");
        }
        if (!ms.isEmpty()) {
            throw LoraException.file(file, "'" + ms.keySet().iterator().next() + M_SUFFIX + "' has no LoRA A and B");
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
            if (p.dora()) {
                out.put(m + M_SUFFIX, p.magnitude());
            }
        });
        return out;
    }

    /** Whether the adapters are DoRA (carry magnitude vectors). */
    public boolean dora() {
        return layers.values().stream().anyMatch(LoraPair::dora);
    }

    /** Largest rank over the layers. */
    public int maxRank() {
        return layers.values().stream().mapToInt(LoraPair::rank).max().orElse(0);
    }
}
