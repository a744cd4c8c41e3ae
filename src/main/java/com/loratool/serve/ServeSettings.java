package com.loratool.serve;

import com.loratool.LoraException;

/**
 * How {@code lora serve} serves its one model.
 *
 * @param name the model's name in the URLs ({@code /v2/models/<name>})
 * @param host the address to bind (127.0.0.1 unless asked: nothing leaves the machine by default)
 * @param port the TCP port (0: any free port, printed when ready)
 * @param maxBatch the most images one forward pass takes (and one request may carry)
 * @param maxDelayMs how long the first request of a batch waits for others
 * @param queue the most requests waiting for the model; more are answered 503 with Retry-After
 * @param timeoutMs each request's time limit, from its arrival to its answer; past it: 503
 * @param maxBodyBytes the largest request body; larger: 413
 * @param token the bearer token every request but the health checks must carry; null: none
 * @param drainMs on SIGTERM, how long requests in flight may take to finish
 */
public record ServeSettings(String name, String host, int port, int maxBatch, int maxDelayMs, int queue, int timeoutMs,
                            long maxBodyBytes, String token, int drainMs) {
    /** The largest network input one image may need (H x W after the size rule): 4 x 518 x 518, bounding memory. */
    public static final long MAX_NETWORK_PIXELS = 4L * 518 * 518;
    /** The largest encoded image (decoded pixels, from its header) {@code image_bytes} accepts: 40 MP. */
    public static final long MAX_IMAGE_PIXELS = 40_000_000L;

    public ServeSettings {
        if (name == null || !name.matches("[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")) {
            throw new LoraException("--name '" + name + "': use 1 to 64 letters, digits, '_', '.' or '-' (it is part of URLs)");
        }
        check("--port", port, 0, 65535);
        check("--max-batch", maxBatch, 1, 256);
        check("--max-delay-ms", maxDelayMs, 0, 60_000);
        check("--queue", queue, 1, 100_000);
        check("--timeout-ms", timeoutMs, 1, 3_600_000);
        check("--drain-ms", drainMs, 0, 3_600_000);
        if (maxBodyBytes < 1024 || maxBodyBytes > Integer.MAX_VALUE - 8) {
            throw new LoraException("--max-body-mb: must be between 1 KiB and 2 GiB");
        }
        if (token != null && token.isEmpty()) {
            throw new LoraException("--token-file: the token is empty");
        }
    }

    /** Without the token (a record would print it). */
    @Override
    public String toString() {
        return "ServeSettings[name=" + name + ", host=" + host + ", port=" + port + ", maxBatch=" + maxBatch
                + ", maxDelayMs=" + maxDelayMs + ", queue=" + queue + ", timeoutMs=" + timeoutMs + ", maxBodyBytes="
                + maxBodyBytes + ", token=" + (token == null ? "none" : "(set)") + ", drainMs=" + drainMs + "]";
    }

    private static void check(String option, long v, long min, long max) {
        if (v < min || v > max) {
            throw new LoraException(option + " " + v + ": must be between " + min + " and " + max);
        }
    }
}
