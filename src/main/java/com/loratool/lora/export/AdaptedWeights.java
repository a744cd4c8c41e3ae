package com.loratool.lora.export;

import com.loratool.LoraException;
import com.loratool.io.HostTensor;
import com.loratool.lora.AdapterCheckpoint;
import com.loratool.lora.AdapterSet;
import com.loratool.lora.LoraPair;
import com.loratool.lora.QkvSlice;
import com.loratool.model.weights.StateDicts;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/** Base and adapted (merged) state dicts of a checkpoint, official names. */
public final class AdaptedWeights {
    private AdaptedWeights() {}

    /** The checkpoint's verified base weights ({@code override} replaces the recorded path). */
    public static LinkedHashMap<String, HostTensor> base(AdapterCheckpoint ck, Path override) {
        return read(ck.baseWeights(override), ck.adapters());
    }

    /** Reads already verified base weights and checks that the adapters fit them. */
    public static LinkedHashMap<String, HostTensor> read(Path verified, AdapterSet adapters) {
        LinkedHashMap<String, HostTensor> sd = StateDicts.read(verified);
        checkShapes(sd, adapters, verified);
        return sd;
    }

    /** Every adapted module exists in {@code base} with the adapter's weight shape. */
    public static void checkShapes(Map<String, HostTensor> base, AdapterSet set, Path baseFile) {
        for (Map.Entry<String, LoraPair> e : set.layers().entrySet()) {
            String key = QkvSlice.moduleOf(e.getKey()) + ".weight";
            HostTensor w = base.get(key);
            if (w == null) {
                throw LoraException.file(baseFile, "has no '" + key + "' for the adapter of " + e.getKey());
            }
            long[] want = e.getValue().moduleWeightShape(e.getKey());
            if (!Arrays.equals(w.shape(), want)) {
                throw LoraException.file(baseFile, "'" + key + "' is " + w.shapeString()
                        + " but the adapter of " + e.getKey() + " expects " + Arrays.toString(want));
            }
        }
    }

    /**
     * W + alphaScale * scaling * B A folded into {@code base}, each module with its own scaling; the
     * fully trained parameters ({@code train_modules}) replace the base's.
     */
    public static LinkedHashMap<String, HostTensor> merged(Map<String, HostTensor> base, AdapterCheckpoint ck,
                                                           double alphaScale) {
        if (alphaScale == 0) {
            return new LinkedHashMap<>(base);
        }
        LinkedHashMap<String, HostTensor> out = MergedWeights.merge(base, ck.adapters(),
                m -> alphaScale * ck.scaling(m).value());
        // train_modules: their trained values replace the base's (whatever the alpha scale)
        for (Map.Entry<String, HostTensor> e : ck.modules().entrySet()) {
            HostTensor b = base.get(e.getKey());
            if (b == null || !Arrays.equals(b.shape(), e.getValue().shape())) {
                throw LoraException.file(ck.dir().resolve(AdapterCheckpoint.WEIGHTS), e.getKey() + ": "
                        + (b == null ? "not a parameter of the base model" : "shape " + Arrays.toString(e.getValue().shape())
                        + ", the base's is " + Arrays.toString(b.shape())));
            }
            out.put(e.getKey(), e.getValue());
        }
        return out;
    }
}
