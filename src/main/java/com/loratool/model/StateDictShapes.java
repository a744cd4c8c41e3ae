package com.loratool.model;

import com.loratool.io.HostTensor;
import java.util.Arrays;
import java.util.Map;

/**
 * The shapes of a state_dict with official key names that tell its architecture, read once for
 * V2 ({@code pretrained.}, {@code depth_head.}: {@link ModelConfig#inferFrom(Map)}) and Depth
 * Anything 3 ({@code model.backbone.pretrained.}, {@code model.head.}: {@link Da3Checkpoint}).
 * Absent head tensors read as -1.
 */
record StateDictShapes(int embedDim, int depth, boolean swiglu, int features, int[] outChannels, long patchSize,
        int posGrid) {

    /**
     * The shapes under {@code backbone} and {@code head}; null when the backbone's cls_token,
     * pos_embed or patch_embed.proj.weight is missing or of the wrong rank.
     */
    static StateDictShapes read(Map<String, HostTensor> sd, String backbone, String head) {
        HostTensor cls = sd.get(backbone + "cls_token");
        HostTensor pos = sd.get(backbone + "pos_embed");
        HostTensor patch = sd.get(backbone + "patch_embed.proj.weight");
        if (cls == null || pos == null || patch == null || cls.shape().length != 3 || pos.shape().length != 3
                || patch.shape().length != 4) {
            return null;
        }
        int depth = 0;
        while (sd.containsKey(backbone + "blocks." + depth + ".norm1.weight")) {
            depth++;
        }
        HostTensor rn = sd.get(head + "scratch.layer1_rn.weight");
        int[] outc = new int[4];
        for (int i = 0; i < 4; i++) {
            HostTensor p = sd.get(head + "projects." + i + ".weight");
            outc[i] = p == null ? -1 : (int) p.shape()[0];
        }
        return new StateDictShapes((int) cls.shape()[2], depth, sd.containsKey(backbone + "blocks.0.mlp.w12.weight"),
                rn == null ? -1 : (int) rn.shape()[0], outc, patch.shape()[2],
                (int) Math.round(Math.sqrt(pos.shape()[1] - 1)));
    }

    /** Whether {@code c} has these shapes. */
    boolean matches(ModelConfig c) {
        return c.embedDim() == embedDim && c.depth() == depth && c.features() == features
                && Arrays.equals(c.outChannels(), outChannels) && c.patchSize() == patchSize && c.posGrid() == posGrid
                && c.swiglu() == swiglu;
    }

    /** The shapes a refusal names. */
    String describe() {
        return "embed_dim " + embedDim + ", depth " + depth + ", features " + features + ", out_channels "
                + Arrays.toString(outChannels);
    }
}
