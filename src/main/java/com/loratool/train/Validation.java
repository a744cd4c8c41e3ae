package com.loratool.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import com.loratool.config.TrainSection;
import com.loratool.data.Sample;
import com.loratool.metrics.DepthAlignment;
import com.loratool.metrics.DepthMetrics;
import com.loratool.metrics.DisparityAlignment;
import com.loratool.metrics.MetricDepth;
import com.loratool.train.loss.DepthLoss;
import java.util.Arrays;
import java.util.List;

/**
 * The validation pass of an epoch: loss, AbsRel, delta1 and RMSE (mm) over the validation set's
 * measured pixels, mean over images. A relative run's metrics are after per-image scale-and-shift
 * alignment in disparity ({@link DisparityAlignment#evaluate}), a da3mono run's in depth
 * ({@link DepthAlignment#evaluate}); a metric run's (its loss is
 * metric) are absolute, the prediction in metres taken as it is ({@link MetricDepth#absolute}):
 * the same definitions as {@code lora eval}.
 */
final class Validation {
    /** Mean validation loss, AbsRel, delta1, RMSE in mm (NaN without a validation set). */
    record Scores(double loss, double absRel, double delta1, double rmse) {}

    private final List<Sample> val;
    private final Trainer.DepthNetwork net;
    private final NDManager manager;
    private final DepthLoss loss;
    private final TrainSection t;

    Validation(List<Sample> val, Trainer.DepthNetwork net, NDManager manager, DepthLoss loss, TrainSection t) {
        this.val = val;
        this.net = net;
        this.manager = manager;
        this.loss = loss;
        this.t = t;
    }

    Scores run() {
        if (val.isEmpty()) {
            return new Scores(Double.NaN, Double.NaN, Double.NaN, Double.NaN);
        }
        double lossSum = 0;
        double absRel = 0;
        double delta1 = 0;
        double rmse = 0;
        int images = 0;
        int scored = 0;
        for (int i = 0; i < val.size(); i += t.batchSize()) {
            List<Sample> part = val.subList(i, Math.min(val.size(), i + t.batchSize()));
            Batch b = Batch.of(part, t.useFilled());
            float[] pred;
            try (NDManager step = manager.newSubManager()) {
                NDArray p = net.forward(b.images(step));
                lossSum += loss.compute(p, b.depth(step), b.mask(step)).getFloat() * part.size();
                pred = p.toFloatArray();
            }
            int hw = b.height() * b.width();
            for (int k = 0; k < part.size(); k++) {
                // the same protocol as `lora eval` (one definition of the aligned metrics)
                int from = k * hw;
                float[] zk = Arrays.copyOfRange(b.depth(), from, from + hw);
                boolean[] measured = new boolean[hw];
                for (int j = 0; j < hw; j++) {
                    measured[j] = b.mask()[from + j] > 0 && zk[j] > 0;
                }
                float[] pk = Arrays.copyOfRange(pred, from, from + hw);
                DepthMetrics mt = loss.metric() ? MetricDepth.absolute(loss.metres(pk, b.height(), b.width()), zk, measured)
                        : loss.onDepth() ? DepthAlignment.evaluate(pk, zk, measured)
                        : DisparityAlignment.evaluate(pk, zk, measured);
                if (mt.pixels() > 0) {
                    absRel += mt.absRel();
                    delta1 += mt.delta1();
                    rmse += mt.rmse();
                    scored++;
                }
            }
            images += part.size();
        }
        // images without measured pixels do not count (as in DepthMetrics.mean); none at all: NaN
        double n = scored == 0 ? Double.NaN : scored;
        return new Scores(lossSum / images, absRel / n, delta1 / n, rmse / n);
    }

    /** train.val_metric of these scores; the training loss when there is no validation set. */
    double metric(Scores s, double trainLoss) {
        if (val.isEmpty()) {
            return trainLoss;
        }
        return switch (t.valMetric()) {
            case abs_rel -> s.absRel();
            case delta1 -> s.delta1();
            case val_loss -> s.loss();
        };
    }

    boolean higherIsBetter() {
        return !val.isEmpty() && t.valMetric() == TrainSection.ValMetric.delta1;
    }
}
