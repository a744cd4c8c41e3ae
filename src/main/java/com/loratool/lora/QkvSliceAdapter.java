package com.loratool.lora;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import com.loratool.model.nn.LayerAdapter;
import java.util.ArrayList;
import java.util.List;

/**
 * What a fused {@code attn.qkv} Linear adds to its output when some of q, k, v are adapted on
 * their own ({@code qkv:q,v}): each slice adapter's output in its third of the fused output, zero
 * in the others (which stay exactly the base layer's).
 */
final class QkvSliceAdapter implements LayerAdapter {
    private final LoraLinear[] parts = new LoraLinear[3];

    void put(QkvSlice slice, LoraLinear layer) {
        parts[slice.part()] = layer;
    }

    @Override
    public NDArray delta(NDArray x) {
        List<NDArray> outs = new ArrayList<>(3);
        for (LoraLinear p : parts) {
            if (p != null) {
                outs.add(p.delta(x));
            } else {
                long[] s = x.getShape().getShape().clone();
                s[s.length - 1] = width();
                outs.add(x.getManager().zeros(new Shape(s), x.getDataType()));
            }
        }
        return NDArrays.concat(new NDList(outs), -1);
    }

    private int width() {
        for (LoraLinear p : parts) {
            if (p != null) {
                return p.outFeatures();
            }
        }
        throw new IllegalStateException("no slice adapters");
    }
}
