package com.loratool.lora.export;

import com.loratool.LoraException;
import com.loratool.io.HostTensor;
import com.loratool.lora.AdapterSet;
import com.loratool.lora.LoraPair;
import com.loratool.lora.QkvSlice;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.ToDoubleFunction;

/**
 * Folds adapters into base weights ({@link LoraPair#mergeIntoModule}): {@code W' = W + scaling * B A}
 * (DoRA: {@code m / ||W + s B A|| (W + s B A)}; a qkv slice on its rows) for every adapted module, all
 * other tensors unchanged, official key names kept. The result is a plain Depth Anything V2
 * state dict that the official code loads with {@code strict=True}.
 */
public final class MergedWeights {
    private MergedWeights() {}

    /** Every module with the same {@code scaling}. */
    public static LinkedHashMap<String, HostTensor> merge(Map<String, HostTensor> base, AdapterSet adapters,
                                                          double scaling) {
        return merge(base, adapters, m -> scaling);
    }

    /** Each module with its own scaling, {@code scalingOf.applyAsDouble(module)}. */
    public static LinkedHashMap<String, HostTensor> merge(Map<String, HostTensor> base, AdapterSet adapters,
                                                          ToDoubleFunction<String> scalingOf) {
        LinkedHashMap<String, HostTensor> out = new LinkedHashMap<>(base);
        for (Map.Entry<String, LoraPair> e : adapters.layers().entrySet()) {
            String key = QkvSlice.moduleOf(e.getKey()) + ".weight";
            HostTensor w = out.get(key);
            if (w == null) {
                throw new LoraException("adapter for '" + e.getKey() + "': the base weights have no '" + key + "'");
            }
            try {
                out.put(key, e.getValue().mergeIntoModule(e.getKey(), w, scalingOf.applyAsDouble(e.getKey())));
            } catch (IllegalArgumentException ex) {
                throw new LoraException("adapter for '" + e.getKey() + "': " + ex.getMessage());
            }
        }
        return out;
    }
}
