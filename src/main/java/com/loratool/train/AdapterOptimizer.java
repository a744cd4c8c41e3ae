package com.loratool.train;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import com.loratool.config.ModuleSelector;
import com.loratool.config.TrainSection;
import com.loratool.train.optim.Adam;
import com.loratool.train.optim.GradClip;
import com.loratool.train.optim.LrSchedule;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The adapter tensors seen from the optimiser, all on the device: gradients accumulate in the
 * adapters' {@code .grad} over the micro-batches of a step (as in PyTorch), are flattened into
 * one tensor (summed over the replicas when there are several, only adapter gradients moving),
 * clipped, and applied by {@link Adam} with the scheduled learning rate; the new values are
 * copied to the other replicas. Nothing is read to the host but one 2-value tensor per step (the
 * step's loss and squared gradient norm, so that a non-finite step stops the run before it
 * touches the adapters), and the moments when a checkpoint is written.
 */
final class AdapterOptimizer implements AutoCloseable {
    private final List<List<NDArray>> replicas;
    private final List<NDArray> params;
    private final List<String> names = new ArrayList<>();
    private final Device device;
    private final Adam adam;
    private final LrSchedule schedule;
    private final double clipNorm;
    private final HostReads host;
    private NDArray grad;
    private NDArray squares;
    /** Each trainable array's learning-rate factor ({@code train.lr_multipliers}); null when all are 1. */
    private final double[] lrScale;

    /**
     * {@code train.lr_multipliers} per trainable array, each key a {@link ModuleSelector} (a module or
     * parameter name, or {@code re:<regex>} on whole names); the first matching key wins, no match
     * is 1. A key that matches none of {@code names} is an error naming it and the near names. Null
     * when every factor is 1.
     */
    static double[] lrScales(List<String> names, Map<String, Double> multipliers) {
        if (multipliers == null || multipliers.isEmpty()) {
            return null;
        }
        List<ModuleSelector> keys = ModuleSelector.parseAll(KEY, multipliers.keySet());
        List<Double> factors = List.copyOf(multipliers.values());
        List<List<String>> selected = ModuleSelector.selectAll(KEY, "trainable parameter", keys, names);
        Map<String, Integer> index = new HashMap<>();
        for (int i = 0; i < names.size(); i++) {
            index.put(names.get(i), i);
        }
        double[] out = new double[names.size()];
        Arrays.fill(out, Double.NaN);
        for (int k = 0; k < keys.size(); k++) {
            for (String n : selected.get(k)) {
                int i = index.get(n);
                out[i] = Double.isNaN(out[i]) ? factors.get(k) : out[i]; // the first matching key wins
            }
        }
        boolean any = false;
        for (int i = 0; i < out.length; i++) {
            out[i] = Double.isNaN(out[i]) ? 1 : out[i];
            any |= out[i] != 1;
        }
        return any ? out : null;
    }

    private static final String KEY = "train.lr_multipliers";

    /**
     * {@code replicas.get(0)}: the primary replica's adapter arrays (values as they are now, after a
     * --resume has loaded them), the optimiser's state beside them in {@code manager}; the other
     * replicas' arrays, same order, are set to the primary's values.
     */
    AdapterOptimizer(List<List<NDArray>> replicas, List<String> trainableNames, NDManager manager, TrainSection t,
            long totalSteps, HostReads host) {
        this.replicas = replicas;
        this.params = replicas.get(0);
        this.device = manager.getDevice();
        names.addAll(trainableNames);
        this.lrScale = lrScales(trainableNames, t.lrMultipliers());
        long size = params.stream().mapToLong(NDArray::size).sum();
        this.adam = new Adam(t.optimizer() == TrainSection.Optimizer.adamw, t.betas().get(0), t.betas().get(1), t.eps(), t.weightDecay(),
                manager, size);
        this.schedule = new LrSchedule(t.lr(), t.schedule().name(), t.warmupSteps(), totalSteps, t.minLr());
        this.clipNorm = t.clipGradNorm();
        this.host = host;
        try (NDManager scratch = manager.newSubManager()) {
            broadcast(scratch);
        }
    }

    /** The learning rate of optimiser step {@code step} (0-based). */
    double lr(long step) {
        return schedule.at(step);
    }

    long stepCount() {
        return adam.stepCount();
    }

    /**
     * Gathers the step's gradient (summed over the replicas) into {@code scratch}, zeroes every
     * replica's {@code .grad}, and reads {@code lossSum} (a 0-d tensor on the primary device)
     * with the squared gradient norm to the host in one transfer: {loss sum, squared norm}.
     */
    float[] gather(NDArray lossSum, NDManager scratch) {
        grad = Adam.flatten(gradients(params, scratch), scratch);
        for (int r = 1; r < replicas.size(); r++) {
            NDArray other = Adam.flatten(gradients(replicas.get(r), scratch), scratch);
            NDArray here = other.toDevice(device, false);
            here.attach(scratch);
            grad.addi(here);
        }
        for (List<NDArray> ps : replicas) {
            for (NDArray p : ps) {
                JniUtils.zeroGrad((PtNDArray) p);
            }
        }
        squares = GradClip.squaredNorm(grad);
        return host.read(NDArrays.stack(new NDList(lossSum, squares)));
    }

    /**
     * The name of the first adapter tensor whose gathered gradient is not finite (after {@link #gather}); null
     * when every value is finite (then only the squared norm overflowed float32).
     */
    String firstNonFinite() {
        float[] all = host.read(grad);
        long from = 0;
        for (int i = 0; i < params.size(); i++) {
            int n = Math.toIntExact(params.get(i).size());
            for (int j = 0; j < n; j++) {
                if (!Float.isFinite(all[(int) from + j])) {
                    return names.get(i);
                }
            }
            from += n;
        }
        return null;
    }

    /** Clips the gathered gradient and applies optimiser step {@code step} (0-based); then every replica holds the new values. */
    void apply(long step, NDManager scratch) {
        boolean recording = JniUtils.isGradMode();
        JniUtils.setGradMode(false);
        try {
            GradClip.clip(grad, squares, clipNorm, scratch);
            adam.step(params, grad, schedule.at(step), lrScale, scratch);
            broadcast(scratch);
        } finally {
            JniUtils.setGradMode(recording);
            grad = null;
            squares = null;
        }
    }

    /** Copies the primary replica's adapter values into the others' arrays (in place: they stay the leaves). */
    private void broadcast(NDManager scratch) {
        if (replicas.size() == 1) {
            return;
        }
        NDArray flat = Adam.flatten(params, scratch);
        for (int r = 1; r < replicas.size(); r++) {
            List<NDArray> ps = replicas.get(r);
            NDArray there = flat.toDevice(ps.get(0).getDevice(), false);
            there.attach(scratch);
            NDList pieces = ps.size() == 1 ? new NDList(there) : there.split(Adam.offsets(ps));
            boolean recording = JniUtils.isGradMode();
            JniUtils.setGradMode(false);
            try {
                for (int i = 0; i < ps.size(); i++) {
                    ps.get(i).set(new NDIndex(":"), pieces.get(i).reshape(ps.get(i).getShape()));
                }
            } finally {
                JniUtils.setGradMode(recording);
            }
        }
    }

    private static List<NDArray> gradients(List<NDArray> ps, NDManager scratch) {
        List<NDArray> gs = new ArrayList<>(ps.size());
        for (NDArray p : ps) {
            NDArray g = p.getGradient();
            g.attach(scratch);
            gs.add(g);
        }
        return gs;
    }

    /** First moments per adapter tensor, read from the device (checkpoints). */
    List<float[]> firstMoments() {
        return perTensor(host.read(adam.firstMoment()));
    }

    List<float[]> secondMoments() {
        return perTensor(host.read(adam.secondMoment()));
    }

    /** Restores checkpointed moments (one pair per adapter tensor) and the step count, bit for bit. */
    void restore(long stepCount, List<float[]> first, List<float[]> second) {
        adam.restore(stepCount, concat(first), concat(second));
    }

    private List<float[]> perTensor(float[] flat) {
        List<float[]> out = new ArrayList<>(params.size());
        int from = 0;
        for (NDArray p : params) {
            int n = Math.toIntExact(p.size());
            out.add(Arrays.copyOfRange(flat, from, from + n));
            from += n;
        }
        return out;
    }

    private static float[] concat(List<float[]> parts) {
        int n = parts.stream().mapToInt(a -> a.length).sum();
        float[] out = new float[n];
        int at = 0;
        for (float[] a : parts) {
            System.arraycopy(a, 0, out, at, a.length);
            at += a.length;
        }
        return out;
    }

    @Override
    public void close() {
        adam.close();
    }
}
