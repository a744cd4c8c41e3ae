package com.loratool.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import com.loratool.model.nn.LayerNorm;
import com.loratool.model.nn.Module;
import com.loratool.model.nn.ModuleList;
import com.loratool.model.nn.Parameter;
import com.loratool.model.nn.Resampler;

/**
 * The DINOv2 encoder ({@code pretrained}): patch embedding, class token, position embedding
 * interpolated to the input's patch grid, transformer blocks, final norm. V2's {@code mask_token} is
 * loaded for key parity but unused (no masking at inference or in fine-tuning); Depth Anything 3
 * has none, and its final norm has eps 1e-5 ({@link ModelConfig#finalNormEps}).
 */
public final class DinoVisionTransformer extends Module {
    private final ModelConfig cfg;
    private final Parameter clsToken;
    private final Parameter posEmbed;
    private final PatchEmbed patchEmbed;
    private final ModuleList<Block> blocks;
    private final LayerNorm norm;
    private final Resampler resampler;

    DinoVisionTransformer(NDManager manager, ModelConfig cfg, Resampler resampler) {
        this.cfg = cfg;
        this.resampler = resampler;
        int d = cfg.embedDim();
        clsToken = addParameter(manager, "cls_token", 1, 1, d);
        posEmbed = addParameter(manager, "pos_embed", 1, 1 + (long) cfg.posGrid() * cfg.posGrid(), d);
        if (!cfg.isDa3()) {
            addParameter(manager, "mask_token", 1, d);
        }
        patchEmbed = addChild("patch_embed", new PatchEmbed(manager, cfg.patchSize(), d));
        blocks = addChild("blocks", new ModuleList<>());
        for (int i = 0; i < cfg.depth(); i++) {
            blocks.add(new Block(manager, cfg));
        }
        norm = addChild("norm", new LayerNorm(manager, d, cfg.finalNormEps()));
    }

    public ModuleList<Block> blocks() {
        return blocks;
    }

    /**
     * {@code get_intermediate_layers(x, layerIndices, norm=True)}: x (B,3,H,W) → four arrays
     * (B, ph*pw, D) of patch tokens (class token dropped), in layer order.
     */
    NDArray[] intermediateLayers(NDArray x) {
        int ph = (int) (x.getShape().get(2) / cfg.patchSize());
        int pw = (int) (x.getShape().get(3) / cfg.patchSize());
        NDArray t = patchEmbed.forward(x); // (B,N,D)
        NDManager mgr = x.getManager();
        long b = t.getShape().get(0);
        NDArray cls = clsToken.array().broadcast(b, 1, cfg.embedDim());
        cls.attach(mgr);
        t = cls.concat(t, 1).add(positions(x, ph, pw)); // (B,1+N,D)
        int[] idx = cfg.layerIndices();
        NDArray[] out = new NDArray[idx.length];
        for (int i = 0; i < blocks.size(); i++) {
            t = blocks.get(i).forward(t);
            for (int j = 0; j < idx.length; j++) {
                if (idx[j] == i) {
                    out[j] = t;
                }
            }
        }
        for (int j = 0; j < out.length; j++) {
            out[j] = norm.forward(out[j]).get(":, 1:, :");
        }
        return out;
    }

    /**
     * {@code interpolate_pos_encoding}: the G x G grid resized bicubically (scale factor
     * (ph+0.1)/G, no antialias) to ph x pw, class position first → (1, 1+ph*pw, D).
     */
    private NDArray positions(NDArray x, int ph, int pw) {
        int g = cfg.posGrid();
        NDArray pos = posEmbed.array();
        if (ph * pw == g * g && x.getShape().get(2) == x.getShape().get(3)) {
            return pos; // the reference's early return
        }
        NDManager mgr = x.getManager();
        int d = cfg.embedDim();
        double sx = (ph + 0.1) / Math.sqrt(g * g);
        double sy = (pw + 0.1) / Math.sqrt(g * g);
        if ((int) Math.floor(g * sx) != ph || (int) Math.floor(g * sy) != pw) {
            throw new IllegalStateException("position grid " + ph + "x" + pw + " not reachable from " + g);
        }
        NDArray cls = pos.get(":, :1, :");
        cls.attach(mgr);
        NDArray grid = pos.get("0, 1:, :"); // (G*G, D)
        grid.attach(mgr);
        NDArray mh = resampler.matrix("bc", g, ph, sx, false); // (ph, G)
        NDArray mw = resampler.matrix("bc", g, pw, sy, false); // (pw, G)
        NDArray rows = mh.matMul(grid.reshape(g, (long) g * d)); // (ph, G*D)
        rows.attach(mgr);
        NDArray both = mw.matMul(rows.reshape(ph, g, d)); // (ph, pw, D)
        both.attach(mgr);
        return cls.concat(both.reshape(1, (long) ph * pw, d), 1);
    }
}
