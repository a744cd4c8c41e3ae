package com.loratool.serve;

import java.util.Map;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.function.IntSupplier;

/**
 * {@code GET /metrics}: the server's counters in Prometheus' text exposition format (version
 * 0.0.4). Written by hand: five metrics (requests by status, the infer latency histogram, the
 * batch-size histogram, the queue depth, the requests in flight) are a few lines of the plain-text format, while the
 * Prometheus Java client would add several jars (and its own protobuf) for them.
 */
final class ServeMetrics {
    static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";
    /** Seconds, as Prometheus' conventions want. */
    private static final double[] LATENCY = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30};
    private static final double[] BATCH = {1, 2, 4, 8, 16, 32, 64, 128, 256};

    private final Map<Integer, AtomicLong> byStatus = new ConcurrentSkipListMap<>();
    private final Histogram latency = new Histogram(LATENCY);
    private final Histogram batches = new Histogram(BATCH);
    private final IntSupplier queueDepth;
    private final IntSupplier inFlight;

    ServeMetrics(IntSupplier queueDepth, IntSupplier inFlight) {
        this.queueDepth = queueDepth;
        this.inFlight = inFlight;
    }

    /** Any answered request (every endpoint). */
    void request(int status) {
        byStatus.computeIfAbsent(status, s -> new AtomicLong()).incrementAndGet();
    }

    /** An answered infer request: its time from arrival to answer. */
    void inferLatency(long nanos) {
        latency.observe(nanos / 1e9);
    }

    /** Images in one forward pass. */
    void batch(int images) {
        batches.observe(images);
    }

    long count(int status) {
        AtomicLong c = byStatus.get(status);
        return c == null ? 0 : c.get();
    }

    String text() {
        StringBuilder sb = new StringBuilder(2048);
        sb.append("# HELP lora_serve_requests_total HTTP requests answered, by status code.\n");
        sb.append("# TYPE lora_serve_requests_total counter\n");
        byStatus.forEach((s, c) -> sb.append("lora_serve_requests_total{code=\"").append(s).append("\"} ")
                .append(c.get()).append('\n'));
        latency.write(sb, "lora_serve_infer_latency_seconds", "Infer requests: seconds from arrival to answer.");
        batches.write(sb, "lora_serve_batch_size", "Images per forward pass (dynamic batching).");
        sb.append("# HELP lora_serve_queue_depth Infer requests waiting for the model.\n");
        sb.append("# TYPE lora_serve_queue_depth gauge\n");
        sb.append("lora_serve_queue_depth ").append(queueDepth.getAsInt()).append('\n');
        sb.append("# HELP lora_serve_in_flight Infer requests admitted and not yet answered (read, queued or computed).\n");
        sb.append("# TYPE lora_serve_in_flight gauge\n");
        sb.append("lora_serve_in_flight ").append(inFlight.getAsInt()).append('\n');
        return sb.toString();
    }

    /** A cumulative histogram: counts per upper bound, a sum and a count. */
    private static final class Histogram {
        private final double[] bounds;
        private final AtomicLongArray counts;
        private final AtomicLong count = new AtomicLong();
        private final AtomicLong sumMicros = new AtomicLong();

        Histogram(double[] bounds) {
            this.bounds = bounds;
            this.counts = new AtomicLongArray(bounds.length);
        }

        void observe(double v) {
            for (int i = 0; i < bounds.length; i++) {
                if (v <= bounds[i]) {
                    counts.incrementAndGet(i);
                    break;
                }
            }
            count.incrementAndGet();
            sumMicros.addAndGet(Math.round(v * 1e6));
        }

        void write(StringBuilder sb, String name, String help) {
            sb.append("# HELP ").append(name).append(' ').append(help).append('\n');
            sb.append("# TYPE ").append(name).append(" histogram\n");
            long cumulative = 0;
            for (int i = 0; i < bounds.length; i++) {
                cumulative += counts.get(i);
                sb.append(name).append("_bucket{le=\"").append(le(bounds[i])).append("\"} ").append(cumulative)
                        .append('\n');
            }
            long n = count.get();
            sb.append(name).append("_bucket{le=\"+Inf\"} ").append(n).append('\n');
            sb.append(name).append("_sum ").append(sumMicros.get() / 1e6).append('\n');
            sb.append(name).append("_count ").append(n).append('\n');
        }

        private static String le(double b) {
            return b == Math.rint(b) ? String.valueOf((long) b) + ".0" : String.valueOf(b);
        }
    }
}
