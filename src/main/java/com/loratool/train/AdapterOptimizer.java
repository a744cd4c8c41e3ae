package com.loratool.train;

import ai.djl.ndarray.NDArray;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import com.loratool.config.TrainSection;
import com.loratool.lora.LoraModel;
import com.loratool.train.optim.Adam;
import com.loratool.train.optim.GradClip;
import com.loratool.train.optim.LrSchedule;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The adapter tensors seen from the optimiser: their gradients summed on the host over the
 * micro-batches of a step, clipped, and applied by Adam/AdamW with the scheduled learning rate
 * to host copies that are written back into the same arrays.
 */
final class AdapterOptimizer {
    private final List<NDArray> params;
    private final List<String> names = new ArrayList<>();
    private final List<float[]> hostParams = new ArrayList<>();
    private final List<float[]> gradSums = new ArrayList<>();
    private final List<ByteBuffer> uploads = new ArrayList<>();
    private final Adam adam;
    private final LrSchedule schedule;
    private final double clipNorm;

    /** Reads the adapters' current values (after a --resume has loaded them). */
    AdapterOptimizer(LoraModel lora, TrainSection t, long totalSteps) {
        this.params = lora.trainable();
        for (String n : lora.adaptedNames()) {
            names.add(n + ".lora_A");
            names.add(n + ".lora_B");
        }
        for (NDArray p : params) {
            hostParams.add(p.toFloatArray());
            gradSums.add(new float[(int) p.size()]);
            uploads.add(ByteBuffer.allocateDirect(Math.toIntExact(p.size()) * 4).order(ByteOrder.nativeOrder()));
        }
        this.adam = new Adam("adamw".equals(t.optimizer), t.betas.get(0), t.betas.get(1), t.eps, t.weightDecay);
        this.schedule = new LrSchedule(t.lr, t.schedule, t.warmupSteps, totalSteps, t.minLr);
        this.clipNorm = t.clipGradNorm;
    }

    Adam adam() {
        return adam;
    }

    /** The learning rate of optimiser step {@code step} (0-based). */
    double lr(long step) {
        return schedule.at(step);
    }

    /**
     * Adds the gradients of the backward pass just done to the step's sums and zeroes them in
     * place (PyTorch accumulates into .grad). Returns the name of the first adapter tensor with a
     * non-finite gradient, or null; its gradients are then not added.
     */
    String accumulate() {
        List<float[]> grads = new ArrayList<>(params.size());
        String bad = null;
        for (int i = 0; i < params.size(); i++) {
            NDArray p = params.get(i);
            float[] gv;
            try (NDArray g = p.getGradient()) {
                gv = g.toFloatArray();
            }
            JniUtils.zeroGrad((PtNDArray) p);
            if (bad == null && !allFinite(gv)) {
                bad = names.get(i);
            }
            grads.add(gv);
        }
        if (bad != null) {
            return bad;
        }
        for (int i = 0; i < params.size(); i++) {
            float[] gv = grads.get(i);
            float[] sum = gradSums.get(i);
            for (int j = 0; j < gv.length; j++) {
                sum[j] += gv[j];
            }
        }
        return null;
    }

    /**
     * Clips the summed gradients, applies optimiser step {@code step} (0-based) and writes the
     * new values into the adapter arrays. Returns null, or (nothing changed) the name of the
     * first tensor whose summed gradient overflowed.
     */
    String step(long step) {
        double norm = GradClip.clip(gradSums, clipNorm);
        if (!Double.isFinite(norm)) {
            for (int i = 0; i < gradSums.size(); i++) {
                if (!allFinite(gradSums.get(i))) {
                    return names.get(i);
                }
            }
            return "(gradient norm " + norm + ")";
        }
        adam.step(hostParams, gradSums, schedule.at(step));
        for (int i = 0; i < params.size(); i++) {
            // one direct buffer per tensor, reused: no per-step allocation (NDArray.set copies a
            // heap buffer into a fresh direct one, freed only at a GC)
            ByteBuffer up = uploads.get(i);
            up.clear();
            up.asFloatBuffer().put(hostParams.get(i));
            params.get(i).set(up);
            Arrays.fill(gradSums.get(i), 0f);
        }
        return null;
    }

    private static boolean allFinite(float[] v) {
        for (float x : v) {
            if (!Float.isFinite(x)) {
                return false;
            }
        }
        return true;
    }
}
