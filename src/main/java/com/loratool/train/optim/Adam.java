package com.loratool.train.optim;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.nio.FloatBuffer;
import java.util.List;

/**
 * Adam / AdamW with PyTorch's semantics ({@code torch.optim.Adam}, {@code AdamW}) as tensor ops on
 * the parameters' device. The moments are two flat tensors holding every parameter in order
 * (one kernel per operation whatever the number of adapter tensors).
 *
 * <pre>
 * Adam:  g += wd * p                      (L2, only when weight_decay > 0)
 * AdamW: p *= 1 - lr * wd                 (decoupled decay)
 * m = m + (1 - b1) (g - m);  v = b2 v + (1 - b2) g^2
 * p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
 * </pre>
 *
 * <p>Every scalar is a 0-d tensor made by libtorch ({@code full}: a fill kernel, no host buffer,
 * no host-to-device copy); those that change per step (learning rate, bias corrections) are made
 * in the caller's per-step manager and freed with it.
 */
public final class Adam implements AutoCloseable {
    private final boolean decoupled;
    private final double beta1;
    private final double beta2;
    private final double eps;
    private final double weightDecay;
    private final NDManager state;
    private final NDArray m;
    private final NDArray v;
    private final NDArray oneMinusB1;
    private final NDArray beta2t;
    private final NDArray oneMinusB2;
    private final NDArray epsT;
    private final NDArray wdT;
    private long step;

    /** Moments for {@code size} parameter values, zero, in a sub-manager of {@code manager} (its device). */
    public Adam(boolean decoupled, double beta1, double beta2, double eps, double weightDecay, NDManager manager,
            long size) {
        this.decoupled = decoupled;
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.eps = eps;
        this.weightDecay = weightDecay;
        this.state = manager.newSubManager();
        this.m = state.zeros(new Shape(size), DataType.FLOAT32);
        this.v = state.zeros(new Shape(size), DataType.FLOAT32);
        this.oneMinusB1 = scalar(state, 1 - beta1);
        this.beta2t = scalar(state, beta2);
        this.oneMinusB2 = scalar(state, 1 - beta2);
        this.epsT = scalar(state, eps);
        this.wdT = scalar(state, weightDecay);
    }

    /** A float32 0-d tensor made by libtorch on {@code m}'s device. */
    public static NDArray scalar(NDManager m, double value) {
        return m.full(new Shape(), (float) value, DataType.FLOAT32);
    }

    /**
     * One update of {@code params} in place (outside autograd: the caller has gradient recording
     * off). {@code grad} is every parameter's gradient flattened and concatenated in order, on
     * the parameters' device; temporaries go to {@code scratch}.
     */
    public void step(List<NDArray> params, NDArray grad, double lr, NDManager scratch) {
        step(params, grad, lr, null, scratch);
    }

    /**
     * {@link #step(List, NDArray, double, NDManager)} with parameter i at learning rate
     * {@code lr * lrScale[i]} ({@code lrScale} null: all at lr): its update and, for AdamW, its
     * decoupled decay scale with it (PyTorch's parameter groups with their own lr).
     */
    public void step(List<NDArray> params, NDArray grad, double lr, double[] lrScale, NDManager scratch) {
        step++;
        double bc1 = 1 - Math.pow(beta1, step);
        double bc2 = 1 - Math.pow(beta2, step);
        NDArray g = grad;
        if (weightDecay != 0) {
            if (decoupled) {
                NDArray decay = scalar(scratch, 1 - lr * weightDecay);
                for (int i = 0; i < params.size(); i++) {
                    params.get(i).muli(lrScale == null || lrScale[i] == 1 ? decay
                            : scalar(scratch, 1 - lr * lrScale[i] * weightDecay));
                }
            } else {
                g = g.add(flatten(params, scratch).mul(wdT));
            }
        }
        // every new array's left operand is in scratch: results land there, not in the state manager
        m.addi(g.sub(m).mul(oneMinusB1));
        v.muli(beta2t).addi(g.square().mul(oneMinusB2));
        NDArray rootV = v.sqrt();
        rootV.attach(scratch);
        NDArray denom = rootV.div(scalar(scratch, Math.sqrt(bc2))).add(epsT);
        NDArray update = scalar(scratch, lr / bc1).mul(m).div(denom);
        NDList pieces = params.size() == 1 ? new NDList(update) : update.split(offsets(params));
        for (int i = 0; i < params.size(); i++) {
            NDArray p = params.get(i);
            NDArray u = pieces.get(i).reshape(p.getShape());
            p.subi(lrScale == null || lrScale[i] == 1 ? u : u.mul(scalar(scratch, lrScale[i])));
        }
    }

    /** Every array flattened and concatenated: a new tensor (and its temporaries) in {@code into}. */
    public static NDArray flatten(List<NDArray> arrays, NDManager into) {
        NDList flat = new NDList(arrays.size());
        for (NDArray a : arrays) {
            NDArray r = a.reshape(-1);
            r.attach(into);
            flat.add(r);
        }
        return NDArrays.concat(flat);
    }

    /** Split points of the flat layout: the running sums of the parameter sizes, the last left out. */
    public static long[] offsets(List<NDArray> params) {
        long[] at = new long[params.size() - 1];
        long sum = 0;
        for (int i = 0; i < at.length; i++) {
            sum += params.get(i).size();
            at[i] = sum;
        }
        return at;
    }

    public long stepCount() {
        return step;
    }

    /** The flat first moment (on the device; read it to the host only to checkpoint). */
    public NDArray firstMoment() {
        return m;
    }

    public NDArray secondMoment() {
        return v;
    }

    /** Restores a checkpointed state: the step count and both flat moments, copied in unchanged. */
    public void restore(long stepCount, float[] first, float[] second) {
        if (first.length != m.size() || second.length != v.size()) {
            throw new IllegalArgumentException("optimizer state holds " + first.length + " values, expected " + m.size());
        }
        step = stepCount;
        m.set(FloatBuffer.wrap(first));
        v.set(FloatBuffer.wrap(second));
    }

    @Override
    public void close() {
        state.close();
    }
}
