package com.loratool.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.loratool.data.Sample;
import com.loratool.model.DepthAnythingV2;
import com.loratool.model.nn.Scalars;
import com.loratool.train.loss.DepthLoss;
import com.loratool.train.loss.SsiLoss;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code train.retain_weight}: the simplest anti-forgetting term. Before training, the frozen base
 * predicts every training image once ({@link #references}); each step's loss is then the run's
 * loss plus {@code w * L_ssi(adapted, base)}: the scale-and-shift-invariant loss ({@link SsiLoss},
 * no gradient matching) with the base's prediction as the target disparity, on every pixel where
 * the base predicts a positive value. So the adapted prediction is kept close to what the base
 * said up to scale and shift, whatever the model's kind (the base's output is the target in the
 * output's own space: target depth = 1 / base prediction).
 */
public final class RetainLoss {
    private static final float FLOOR = 1e-6f;

    private RetainLoss() {}

    /** The frozen model's prediction (h*w, row-major) of each sample, by stem, computed one image at a time. */
    public static Map<String, float[]> references(DepthAnythingV2 frozen, List<Sample> samples, NDManager manager) {
        Map<String, float[]> out = new LinkedHashMap<>();
        frozen.setTraining(false);
        for (Sample s : samples) {
            try (NDManager m = manager.newSubManager()) {
                NDArray x = m.create(s.image(), new Shape(1, 3, s.h(), s.w()));
                out.put(s.stem(), frozen.forward(x).stopGradient().toFloatArray());
            }
        }
        return out;
    }

    /** {@code loss} plus {@code weight} times the retention term on the batch's references. */
    static DepthLoss of(DepthLoss loss, Batch b, double weight) {
        SsiLoss ssi = new SsiLoss(0, 1);
        return (pred, depth, mask) -> {
            NDArray l = loss.compute(pred, depth, mask);
            NDManager m = pred.getManager();
            float[] z = new float[b.reference().length];
            float[] valid = new float[z.length];
            for (int i = 0; i < z.length; i++) {
                float r = b.reference()[i];
                boolean ok = r > FLOOR && Float.isFinite(r);
                z[i] = ok ? 1f / r : 1f;
                valid[i] = ok ? 1f : 0f;
            }
            Shape shape = new Shape(b.size(), b.height(), b.width());
            NDArray term = ssi.compute(pred, m.create(z, shape), m.create(valid, shape));
            return l.add(Scalars.mul(term, weight));
        };
    }
}
