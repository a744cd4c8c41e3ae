package com.loratool.serve;

import com.loratool.api.Prediction;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.opencv.core.Mat;

/**
 * Dynamic batching: one worker thread owns the model. Requests wait in a bounded queue
 * ({@code --queue}; {@link #offer} refuses when it is full, so memory stays bounded). The worker
 * takes the first request, then whatever arrives within {@code --max-delay-ms}, up to
 * {@code --max-batch} images, and runs them as few forward passes as their sizes allow: tensors of
 * one H x W in one {@link ServedModel#forward}, decoded images of one size in one
 * {@link ServedModel#predict}. A request answered already (its time limit passed) is skipped.
 */
final class Batcher {
    /** Where a request's answer goes. */
    interface Reply {
        /** False once the request was answered (timed out): no work is done for it. */
        boolean open();

        void depth(float[] depth, int n, int h, int w);

        void error(HttpError e);
    }

    record Job(InferenceRequest request, Reply reply) {}

    private final ServedModel model;
    private final int maxBatch;
    private final long maxDelayNanos;
    private final ArrayBlockingQueue<Job> queue;
    private final Thread worker;
    private ServeMetrics metrics;
    private volatile boolean running = true;
    private Job carry;

    Batcher(ServedModel model, int maxBatch, int maxDelayMs, int capacity) {
        this.model = model;
        this.maxBatch = maxBatch;
        this.maxDelayNanos = TimeUnit.MILLISECONDS.toNanos(maxDelayMs);
        this.queue = new ArrayBlockingQueue<>(capacity);
        this.worker = new Thread(this::loop, "lora-serve-batcher");
        this.worker.setDaemon(true);
    }

    void start(ServeMetrics m) {
        this.metrics = m;
        worker.start();
    }

    /** False when the queue is full (the caller answers 503). */
    boolean offer(Job job) {
        return running && queue.offer(job);
    }

    /** Takes an answered request out of the queue (no-op once the worker has it). */
    void remove(Job job) {
        queue.remove(job);
    }

    int depth() {
        return queue.size();
    }

    /**
     * Finishes what is queued, then stops the worker (waiting at most {@code millis}); what is still
     * queued then is answered 503. Returns false when the worker is still in a forward pass (the
     * model must then stay open: it is in use).
     */
    boolean stop(long millis) {
        running = false;
        try {
            worker.join(Math.max(1, millis));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        for (Job j; (j = queue.poll()) != null; ) {
            j.reply().error(new HttpError(503, "the server is shutting down"));
        }
        return !worker.isAlive();
    }

    private void loop() {
        while (true) {
            Job first;
            try {
                first = carry != null ? carry : queue.poll(100, TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                return;
            }
            carry = null;
            if (first == null) {
                if (!running) {
                    return;
                }
                continue;
            }
            if (!first.reply().open()) {
                continue;
            }
            List<Job> batch = new ArrayList<>();
            batch.add(first);
            int images = first.request().n();
            long until = System.nanoTime() + maxDelayNanos;
            while (images < maxBatch) {
                Job j;
                try {
                    long left = until - System.nanoTime();
                    j = left > 0 ? queue.poll(left, TimeUnit.NANOSECONDS) : queue.poll();
                } catch (InterruptedException e) {
                    break;
                }
                if (j == null) {
                    break;
                }
                if (!j.reply().open()) {
                    continue;
                }
                if (images + j.request().n() > maxBatch) {
                    carry = j;
                    break;
                }
                batch.add(j);
                images += j.request().n();
            }
            run(batch);
        }
    }

    private void run(List<Job> batch) {
        Map<Long, List<Job>> tensors = new LinkedHashMap<>();
        List<Job> files = new ArrayList<>();
        for (Job j : batch) {
            if (j.request().isTensor()) {
                tensors.computeIfAbsent(((long) j.request().h() << 32) | j.request().w(), k -> new ArrayList<>()).add(j);
            } else {
                files.add(j);
            }
        }
        tensors.values().forEach(this::forward);
        if (!files.isEmpty()) {
            predict(files);
        }
    }

    /** Tensors of one size: one forward pass. */
    private void forward(List<Job> jobs) {
        int h = jobs.get(0).request().h();
        int w = jobs.get(0).request().w();
        int n = 0;
        for (Job j : jobs) {
            n += j.request().n();
        }
        float[] x;
        if (jobs.size() == 1) {
            x = jobs.get(0).request().tensor();
        } else {
            x = new float[n * 3 * h * w];
            int at = 0;
            for (Job j : jobs) {
                float[] t = j.request().tensor();
                System.arraycopy(t, 0, x, at, t.length);
                at += t.length;
            }
        }
        float[] d;
        try {
            d = model.forward(x, n, h, w);
        } catch (RuntimeException | OutOfMemoryError e) {
            failAll(jobs, e);
            return;
        }
        metrics.batch(n);
        int plane = h * w;
        int at = 0;
        for (Job j : jobs) {
            int k = j.request().n();
            float[] mine = jobs.size() == 1 ? d : Arrays.copyOfRange(d, at * plane, (at + k) * plane);
            at += k;
            j.reply().depth(mine, k, h, w);
        }
    }

    /** Encoded images: decoded (a bad one fails its own request only), then one predict per image size. */
    private void predict(List<Job> jobs) {
        record Item(Job job, int index, Mat image) {}
        List<Item> items = new ArrayList<>();
        Map<Job, Prediction[]> results = new LinkedHashMap<>();
        try {
            for (Job j : jobs) {
                if (!j.reply().open()) {
                    continue;
                }
                List<Item> mine = new ArrayList<>();
                try {
                    List<byte[]> f = j.request().files();
                    for (int i = 0; i < f.size(); i++) {
                        Mat m = model.decode(f.get(i), i);
                        mine.add(new Item(j, i, m));
                        Mat first = mine.get(0).image();
                        if (m.rows() != first.rows() || m.cols() != first.cols()) {
                            throw HttpError.badRequest("input 'image_bytes': the images of one request must have one "
                                    + "size (depth is N x H x W): element 0 is " + first.cols() + " x " + first.rows()
                                    + ", element " + i + " " + m.cols() + " x " + m.rows());
                        }
                    }
                } catch (HttpError e) {
                    mine.forEach(it -> it.image().release());
                    j.reply().error(e);
                    continue;
                }
                items.addAll(mine);
                results.put(j, new Prediction[j.request().n()]);
            }
            Map<Long, List<Item>> bySize = new LinkedHashMap<>();
            for (Item it : items) {
                bySize.computeIfAbsent(((long) it.image().rows() << 32) | it.image().cols(), k -> new ArrayList<>())
                        .add(it);
            }
            for (List<Item> group : bySize.values()) {
                List<Prediction> p;
                try {
                    p = model.predict(group.stream().map(Item::image).toList());
                } catch (RuntimeException | OutOfMemoryError e) {
                    failAll(group.stream().map(Item::job).distinct().toList(), e);
                    group.forEach(it -> results.remove(it.job()));
                    continue;
                }
                metrics.batch(group.size());
                for (int k = 0; k < group.size(); k++) {
                    Prediction[] r = results.get(group.get(k).job());
                    if (r != null) {
                        r[group.get(k).index()] = p.get(k);
                    }
                }
            }
        } finally {
            items.forEach(it -> it.image().release());
        }
        results.forEach((j, r) -> {
            int h = r[0].height();
            int w = r[0].width();
            if (r.length == 1) { // the usual request: its one depth as it is
                j.reply().depth(r[0].values(), 1, h, w);
                return;
            }
            float[] all = new float[r.length * h * w];
            for (int i = 0; i < r.length; i++) {
                System.arraycopy(r[i].values(), 0, all, i * h * w, h * w);
            }
            j.reply().depth(all, r.length, h, w);
        });
    }

    private static void failAll(List<Job> jobs, Throwable e) {
        String msg = e instanceof OutOfMemoryError ? "out of memory in the model (send fewer or smaller images)"
                : "the model failed: " + e.getMessage();
        for (Job j : jobs) {
            j.reply().error(new HttpError(500, msg));
        }
    }
}
