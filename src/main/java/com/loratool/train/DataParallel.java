package com.loratool.train;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.GradientCollector;
import com.loratool.LoraException;
import com.loratool.model.nn.Scalars;
import com.loratool.train.loss.DepthLoss;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Consumer;

/**
 * Forward, loss and backward of one micro-batch over the model replicas (data parallel).
 *
 * <p>One replica: the plain step. Several: the batch is split into contiguous parts, one per
 * replica (the first ones get one image more when it does not divide); each replica predicts its
 * part on its device; the predictions are copied (detached) to the primary device and joined, the
 * loss is computed there on the whole batch, and its gradient with respect to each part is sent
 * back and propagated through that replica ({@code backward(pred, dL/dpred)}). The gradients the
 * adapters of all replicas receive then add up to the whole-batch gradient exactly, whatever the
 * loss reduces over (pixels of the batch, images, scales), and the loss value is the whole
 * batch's. Replicas on different devices run in parallel, one thread per device; replicas that
 * share a device run one after the other (as fast, and the random draws of dropout stay in a
 * fixed order).
 */
final class DataParallel implements AutoCloseable {
    private final List<Trainer.Replica> replicas;
    private final Map<Device, ExecutorService> threads = new LinkedHashMap<>();

    DataParallel(List<Trainer.Replica> replicas) {
        this.replicas = replicas;
        Set<Device> devices = new LinkedHashSet<>();
        replicas.forEach(r -> devices.add(r.manager().getDevice()));
        if (devices.size() > 1) {
            for (Device d : devices) {
                threads.put(d, Executors.newSingleThreadExecutor(run -> {
                    Thread th = new Thread(run, "replica-" + d);
                    th.setDaemon(true);
                    return th;
                }));
            }
        }
    }

    /**
     * Trains on {@code b}: gradients of {@code loss / gradAccum} added to the replicas' adapters.
     * Returns the loss times the number of images (detached, a 0-d tensor in {@code keep}, on the
     * primary device): nothing is read to the host.
     */
    NDArray forwardBackward(Batch b, DepthLoss loss, int gradAccum, NDManager keep) {
        Trainer.Replica primary = replicas.get(0);
        if (replicas.size() == 1) {
            try (NDManager micro = primary.manager().newSubManager();
                    GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                NDArray pred = primary.net().forward(b.images(micro));
                NDArray l = loss.compute(pred, b.depth(micro), b.mask(micro));
                gc.backward(gradAccum > 1 ? Scalars.div(l, gradAccum) : l);
                return kept(l, b.size(), keep);
            }
        }
        int n = b.size();
        int parts = replicas.size();
        List<Part> work = new ArrayList<>();
        int from = 0;
        for (int r = 0; r < parts; r++) {
            int size = n / parts + (r < n % parts ? 1 : 0);
            if (size > 0) {
                work.add(new Part(replicas.get(r), b.slice(from, from + size)));
            }
            from += size;
        }
        try {
            onReplicas(work, Part::forward);
            try (NDManager micro = primary.manager().newSubManager();
                    GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                Device device = micro.getDevice();
                NDList joined = new NDList(work.size());
                for (Part p : work) {
                    p.leaf = p.pred.stopGradient().toDevice(device, true);
                    p.leaf.attach(micro);
                    p.leaf.setRequiresGradient(true);
                    joined.add(p.leaf);
                }
                NDArray all = work.size() == 1 ? joined.get(0) : NDArrays.concat(joined);
                NDArray l = loss.compute(all, b.depth(micro), b.mask(micro));
                gc.backward(gradAccum > 1 ? Scalars.div(l, gradAccum) : l);
                for (Part p : work) {
                    p.upstream = p.leaf.getGradient().toDevice(p.replica.manager().getDevice(), true);
                    p.upstream.attach(p.manager);
                }
                NDArray value = kept(l, n, keep);
                onReplicas(work, Part::backward);
                return value;
            }
        } finally {
            for (Part p : work) {
                if (p.manager != null) {
                    p.manager.close();
                }
            }
        }
    }

    private static NDArray kept(NDArray l, int images, NDManager keep) {
        NDArray v = Scalars.mul(l.stopGradient(), images);
        v.attach(keep);
        return v;
    }

    /** One replica's share of a micro-batch: its images, prediction (graph kept) and upstream gradient. */
    private static final class Part {
        final Trainer.Replica replica;
        final Batch batch;
        NDManager manager;
        NDArray pred;
        NDArray leaf;
        NDArray upstream;

        Part(Trainer.Replica replica, Batch batch) {
            this.replica = replica;
            this.batch = batch;
        }

        void forward() {
            manager = replica.manager().newSubManager();
            boolean recording = JniUtils.isGradMode(); // per thread in libtorch
            JniUtils.setGradMode(true);
            try {
                pred = replica.net().forward(batch.images(manager));
            } finally {
                JniUtils.setGradMode(recording);
            }
        }

        void backward() {
            JniUtils.backward((PtNDArray) pred, (PtNDArray) upstream, false, false);
        }
    }

    /** Runs {@code task} on every part: in parallel across devices, in order within one. */
    private void onReplicas(List<Part> work, Consumer<Part> task) {
        if (threads.isEmpty()) {
            work.forEach(task);
            return;
        }
        Map<Device, List<Part>> byDevice = new LinkedHashMap<>();
        for (Part p : work) {
            byDevice.computeIfAbsent(p.replica.manager().getDevice(), d -> new ArrayList<>()).add(p);
        }
        List<Future<?>> running = new ArrayList<>();
        byDevice.forEach((d, ps) -> running.add(threads.get(d).submit(() -> ps.forEach(task))));
        for (Future<?> f : running) {
            try {
                f.get();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new LoraException("training interrupted");
            } catch (ExecutionException e) {
                if (e.getCause() instanceof RuntimeException re) {
                    throw re;
                }
                throw new LoraException("replica failed: " + e.getCause());
            }
        }
    }

    @Override
    public void close() {
        threads.values().forEach(ExecutorService::shutdownNow);
    }
}
