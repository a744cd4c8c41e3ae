package com.loratool.serve;

import com.fasterxml.jackson.core.JsonGenerator;
import com.loratool.LoraException;
import com.loratool.api.DepthEstimator;
import com.loratool.deploy.OnnxDeployment;
import com.loratool.deploy.TritonRepository;
import com.loratool.io.Json;
import com.loratool.io.Printable;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.BindException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpStatus;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.handler.GracefulHandler;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.thread.QueuedThreadPool;

/**
 * {@code lora serve}'s HTTP side: the Open Inference Protocol (KServe v2) REST endpoints over one
 * {@link ServedModel}, with the binary tensor data extension.
 *
 * <p>The HTTP layer is Jetty 12's core server ({@code org.eclipse.jetty:jetty-server}, its
 * {@link Handler} API, no servlets): a well-kept, widely deployed server whose core is four small
 * jars with no further dependencies, that parses and limits HTTP itself (header size: 431, bad
 * messages: 400, idle and slow connections closed), reads bodies asynchronously
 * ({@link Content.Source#asByteArrayAsync}, so a waiting request holds no thread), and stops
 * gracefully ({@link GracefulHandler}: new requests refused, those in flight finished within the
 * stop timeout). Netty would need our own HTTP aggregation and routing on top; a servlet container
 * adds a layer this one-handler server does not use.
 *
 * <p>Endpoints: {@code GET /v2/health/live}, {@code /v2/health/ready}, {@code /v2} (server
 * metadata), {@code /v2/models/<name>[/versions/1]} (model metadata), {@code .../ready},
 * {@code POST .../infer}, and {@code GET /metrics} (Prometheus text). Every error is
 * {@code {"error": "<one line>"}} with a 4xx (the client's) or 5xx status; a handler never lets an
 * exception reach Jetty, so no stack trace is ever sent.
 */
public final class InferenceServer implements AutoCloseable {
    private static final String JSON_TYPE = "application/json";
    private static final String HEADER_LENGTH = "Inference-Header-Content-Length";

    private final ServeSettings settings;
    private final ServedModel model;
    private final Batcher batcher;
    private final ServeMetrics metrics;
    private final InferenceCodec codec;
    private final byte[] tokenDigest;
    private final Server server;
    private final ServerConnector connector;
    private final GracefulHandler graceful;
    private final ScheduledExecutorService timers;
    private final AtomicInteger inFlight = new AtomicInteger();
    private volatile boolean ready;

    private InferenceServer(ServeSettings settings, DepthEstimator estimator) {
        this.settings = settings;
        this.model = new ServedModel(settings.name(), estimator);
        this.batcher = new Batcher(model, settings.maxBatch(), settings.maxDelayMs(), settings.queue());
        this.metrics = new ServeMetrics(batcher::depth, inFlight::get);
        this.codec = new InferenceCodec(settings.maxBatch());
        this.tokenDigest = settings.token() == null ? null : sha256(settings.token().getBytes(StandardCharsets.UTF_8));
        QueuedThreadPool pool = new QueuedThreadPool(Math.max(16, Math.min(200, settings.queue() + 16)), 4);
        pool.setName("lora-serve-http");
        pool.setDaemon(true);
        this.server = new Server(pool);
        HttpConfiguration http = new HttpConfiguration();
        http.setSendServerVersion(false);
        http.setSendDateHeader(false);
        http.setRequestHeaderSize(16 * 1024);
        http.setMinRequestDataRate(16 * 1024); // a slow sender (< 16 KiB/s) is cut off
        // Jetty's per-connection header cache matches values without case by default: after "Bearer abC" the
        // parser handed "Bearer abc" on the same connection over as "Bearer abC" (a token differing in case only
        // was then accepted or refused by the earlier value); values must reach the token check exactly
        http.setHeaderCacheCaseSensitive(true);
        this.connector = new ServerConnector(server, new HttpConnectionFactory(http));
        connector.setHost(settings.host());
        connector.setPort(settings.port());
        connector.setIdleTimeout(30_000);
        server.addConnector(connector);
        this.graceful = new GracefulHandler(new Router());
        server.setHandler(graceful);
        server.setErrorHandler(this::jettyError);
        server.setStopTimeout(settings.drainMs());
        server.setStopAtShutdown(false); // the CLI's SIGTERM handling stops it (io.Interrupts), not a JVM hook
        ScheduledThreadPoolExecutor t = new ScheduledThreadPoolExecutor(1, r -> {
            Thread th = new Thread(r, "lora-serve-timeouts");
            th.setDaemon(true);
            return th;
        });
        t.setRemoveOnCancelPolicy(true); // an answered request's timer goes at once, not at its deadline
        this.timers = t;
    }

    /**
     * Serves {@code estimator} (the server owns it and closes it) on the settings' address. A port
     * in use is a one-line {@link LoraException}.
     */
    public static InferenceServer start(ServeSettings settings, DepthEstimator estimator) {
        InferenceServer s = new InferenceServer(settings, estimator);
        s.batcher.start(s.metrics);
        try {
            s.server.start();
        } catch (Exception e) {
            s.close();
            Throwable c = e;
            while (c.getCause() != null && !(c instanceof BindException)) {
                c = c.getCause();
            }
            if (c instanceof BindException || e instanceof IOException && String.valueOf(e.getMessage()).contains("bind")) {
                throw new LoraException("--port " + settings.port() + ": cannot listen on " + settings.host() + ":"
                        + settings.port() + " (" + Printable.of(c.getMessage()) + "; is another server using it? give "
                        + "another --port)");
            }
            throw new LoraException("cannot start the HTTP server on " + settings.host() + ":" + settings.port() + ": "
                    + Printable.of(e.getMessage()));
        }
        s.ready = true;
        return s;
    }

    /** The port listened on (the free one chosen for --port 0). */
    public int port() {
        return connector.getLocalPort();
    }

    /** The base URL, e.g. {@code http://127.0.0.1:8000}. */
    public String url() {
        String h = settings.host().contains(":") ? "[" + settings.host() + "]" : settings.host();
        return "http://" + h + ":" + port();
    }

    /** The served model's name, depth unit and size rule, for the CLI's progress line. */
    public String describe() {
        return "'" + model.name() + "' (depth in " + model.depthUnit() + "; " + model.parameters().getOrDefault(
                "size_rule", "") + ")";
    }

    /** Requests being handled now (read, queued or computed). */
    public int inFlight() {
        return inFlight.get();
    }

    /**
     * Stops accepting work (ready turns false, new requests get 503), finishes the requests in flight
     * within the settings' drain time, then stops; the model is closed. Returns the requests that
     * were still in flight at the deadline (0: all finished).
     */
    public int drain() {
        ready = false;
        try {
            graceful.shutdown().get(settings.drainMs(), TimeUnit.MILLISECONDS);
        } catch (Exception e) {
            // the deadline passed: stop() below cuts off what is left
        }
        int left = inFlight.get();
        close();
        return left;
    }

    @Override
    public void close() {
        ready = false;
        try {
            server.stop();
        } catch (Exception e) {
            // stopping: nothing more to do
        }
        timers.shutdownNow();
        // a forward pass abandoned by its time limit may still run: the model closes after it (never under it)
        if (batcher.stop(Math.max(60_000, settings.drainMs()))) {
            model.close();
        }
    }

    /** The routes; every answer goes through {@link #send}. */
    private final class Router extends Handler.Abstract {
        @Override
        public boolean handle(Request request, Response response, Callback callback) {
            try {
                route(request, response, callback);
            } catch (HttpError e) {
                Runnable answer = () -> sendError(response, callback, e);
                if (request.getLength() == 0 || e.status() == 413 && request.getLength() > 4 * settings.maxBodyBytes()) {
                    // no body; or a declared body far over the limit: answered at once, and the connection closes
                    answer.run();
                } else {
                    // refused before its body was read (401, 503 full, 413 up to 4x the limit): the body is read and
                    // dropped first, so a client still sending gets the answer rather than a reset connection (a race
                    // the client loses on a loaded machine); nothing is kept
                    Content.Source.consumeAll(request, Callback.from(answer, x -> answer.run()));
                }
            } catch (RuntimeException e) {
                send(response, callback, 500, errorBody("internal error: " + Printable.of(e.toString())), JSON_TYPE, -1,
                        false);
            }
            return true;
        }
    }

    private void route(Request request, Response response, Callback callback) {
        String path = Request.getPathInContext(request);
        String method = request.getMethod();
        if (path.equals("/v2/health/live")) {
            get(method);
            send(response, callback, 200, new byte[0], JSON_TYPE, -1, false);
            return;
        }
        if (path.equals("/v2/health/ready")) {
            get(method);
            send(response, callback, ready ? 200 : 503, new byte[0], JSON_TYPE, -1, false);
            return;
        }
        authorize(request, response);
        if (path.equals("/metrics")) {
            get(method);
            send(response, callback, 200, metrics.text().getBytes(StandardCharsets.UTF_8), ServeMetrics.CONTENT_TYPE, -1,
                    false);
            return;
        }
        if (path.equals("/v2") || path.equals("/v2/")) {
            get(method);
            send(response, callback, 200, serverMetadata(), JSON_TYPE, -1, false);
            return;
        }
        String prefix = "/v2/models/";
        if (!path.startsWith(prefix)) {
            throw new HttpError(404, "no such endpoint: " + Printable.of(path));
        }
        String[] parts = path.substring(prefix.length()).split("/", -1);
        String name = parts[0];
        int k = 1;
        if (parts.length >= 3 && parts[1].equals("versions")) {
            if (!parts[2].equals(ServedModel.VERSION)) {
                throw new HttpError(404, "model '" + Printable.of(name) + "' has no version '" + Printable.of(parts[2])
                        + "' (this server serves version " + ServedModel.VERSION + ")");
            }
            k = 3;
        }
        if (!name.equals(model.name())) {
            throw new HttpError(404, "unknown model '" + Printable.of(name) + "'; this server serves '" + model.name()
                    + "'");
        }
        String rest = parts.length == k ? "" : parts.length == k + 1 ? parts[k] : null;
        if ("".equals(rest)) {
            get(method);
            send(response, callback, 200, modelMetadata(), JSON_TYPE, -1, false);
        } else if ("ready".equals(rest)) {
            get(method);
            send(response, callback, ready ? 200 : 503, new byte[0], JSON_TYPE, -1, false);
        } else if ("infer".equals(rest)) {
            if (!method.equals("POST")) {
                throw new HttpError(405, "infer takes POST, not " + Printable.of(method));
            }
            infer(request, response, callback);
        } else {
            throw new HttpError(404, "no such endpoint: " + Printable.of(path));
        }
    }

    private static void get(String method) {
        if (!method.equals("GET") && !method.equals("HEAD")) {
            throw new HttpError(405, "this endpoint takes GET, not " + Printable.of(method));
        }
    }

    /** The bearer token, compared as SHA-256 digests with {@link MessageDigest#isEqual} (constant time). */
    private void authorize(Request request, Response response) {
        if (tokenDigest == null) {
            return;
        }
        String h = request.getHeaders().get(HttpHeader.AUTHORIZATION);
        byte[] given = h != null && h.regionMatches(true, 0, "Bearer ", 0, 7)
                ? sha256(h.substring(7).strip().getBytes(StandardCharsets.UTF_8)) : new byte[32];
        if (!MessageDigest.isEqual(tokenDigest, given) || h == null) {
            response.getHeaders().put(HttpHeader.WWW_AUTHENTICATE, "Bearer");
            throw new HttpError(401, h == null ? "missing bearer token (Authorization: Bearer <token>)"
                    : "wrong bearer token");
        }
    }

    private void infer(Request request, Response response, Callback callback) {
        long start = System.nanoTime();
        long length = request.getLength();
        if (length > settings.maxBodyBytes()) {
            throw new HttpError(413, "body of " + length + " bytes is over the limit of " + settings.maxBodyBytes()
                    + " (--max-body-mb)");
        }
        int headerLength = -1;
        String hl = request.getHeaders().get(HEADER_LENGTH);
        if (hl != null) {
            try {
                headerLength = Integer.parseInt(hl.strip());
            } catch (NumberFormatException e) {
                throw HttpError.badRequest(HEADER_LENGTH + " '" + Printable.of(hl) + "' is not a number");
            }
            if (headerLength < 1) {
                throw HttpError.badRequest(HEADER_LENGTH + " " + headerLength + ": must be positive");
            }
        }
        // admission before the body is read: at most --queue waiting plus --max-batch being read or computed, so
        // memory stays bounded by about (queue + max-batch) x --max-body-mb
        if (inFlight.incrementAndGet() > settings.queue() + settings.maxBatch()) {
            inFlight.decrementAndGet();
            throw new HttpError(503, "the server is full (" + settings.queue() + " requests queued, --queue); retry "
                    + "shortly");
        }
        Exchange ex = new Exchange(response, callback, start);
        // the time limit covers the whole request: reading, queueing, computing
        // (a body still arriving then is the client's slowness: 408; else the server's: 503)
        ex.timer = timers.schedule(() -> ex.error(ex.request == null
                ? new HttpError(408, "the request's body did not arrive within the time limit of " + settings.timeoutMs()
                        + " ms")
                : new HttpError(503, "no answer within the time limit of " + settings.timeoutMs()
                        + " ms (--timeout-ms; the server is busy)")), settings.timeoutMs(), TimeUnit.MILLISECONDS);
        int h = headerLength;
        Content.Source.asByteArrayAsync(request, (int) settings.maxBodyBytes()).whenComplete((body, failure) -> {
            if (failure != null) {
                String m = String.valueOf(failure.getMessage());
                ex.error(m.toLowerCase(Locale.ROOT).contains("exceeded") // Jetty: "Max size (N) exceeded"
                        ? new HttpError(413, "body over the limit of " + settings.maxBodyBytes() + " bytes (--max-body-mb)")
                        : m.contains("EOF") ? HttpError.badRequest("the body ended before its Content-Length")
                        : HttpError.badRequest("cannot read the body (" + Printable.of(m) + ")"));
                return;
            }
            try {
                InferenceRequest r = codec.parse(body, h);
                if (r.isTensor()) {
                    model.checkTensor(r.h(), r.w());
                }
                ex.request = r;
                if (!ex.open()) {
                    return;
                }
                ex.job = new Batcher.Job(r, ex);
                if (!batcher.offer(ex.job)) {
                    ex.error(new HttpError(503, "the queue is full (" + settings.queue() + " requests, --queue); retry "
                            + "shortly"));
                }
            } catch (HttpError e) {
                ex.error(e);
            } catch (RuntimeException e) {
                ex.error(new HttpError(500, "internal error: " + Printable.of(e.toString())));
            }
        });
    }

    /** One infer request's answer: given once, by the batch, an error, or the time limit, whichever comes first. */
    private final class Exchange implements Batcher.Reply {
        private final Response response;
        private final Callback callback;
        private final long start;
        private final AtomicBoolean answered = new AtomicBoolean();
        volatile ScheduledFuture<?> timer;
        volatile InferenceRequest request;
        volatile Batcher.Job job;

        Exchange(Response response, Callback callback, long start) {
            this.response = response;
            this.callback = callback;
            this.start = start;
        }

        @Override
        public boolean open() {
            return !answered.get();
        }

        private boolean claim() {
            if (!answered.compareAndSet(false, true)) {
                return false;
            }
            ScheduledFuture<?> t = timer;
            if (t != null) {
                t.cancel(false);
            }
            inFlight.decrementAndGet();
            Batcher.Job j = job;
            if (j != null) {
                batcher.remove(j); // answered by its time limit while queued: its place goes to the next request
            }
            return true;
        }

        @Override
        public void depth(float[] depth, int n, int h, int w) {
            if (!claim()) {
                return;
            }
            InferenceCodec.Encoded e = InferenceCodec.response(model.name(), request.id(), depth, n, h, w,
                    request.binaryOutput());
            metrics.inferLatency(System.nanoTime() - start);
            send(response, callback, 200, e.body(), e.binary() ? "application/octet-stream" : JSON_TYPE,
                    e.binary() ? e.headerLength() : -1, false);
        }

        @Override
        public void error(HttpError e) {
            if (!claim()) {
                return;
            }
            metrics.inferLatency(System.nanoTime() - start);
            sendError(response, callback, e);
        }
    }

    /** {@code {"error": ...}} with the error's status (and Retry-After for a 503). */
    private void sendError(Response response, Callback callback, HttpError e) {
        send(response, callback, e.status(), errorBody(e.getMessage()), JSON_TYPE, -1, e.status() == 503);
    }

    private void send(Response response, Callback callback, int status, byte[] body, String type, int headerLength,
                      boolean retry) {
        metrics.request(status);
        try {
            response.setStatus(status);
            response.getHeaders().put(HttpHeader.CONTENT_TYPE, type);
            response.getHeaders().put(HttpHeader.CONTENT_LENGTH, body.length);
            if (headerLength >= 0) {
                response.getHeaders().put(HEADER_LENGTH, String.valueOf(headerLength));
            }
            if (retry) {
                response.getHeaders().put(HttpHeader.RETRY_AFTER, "1");
            }
            response.write(true, ByteBuffer.wrap(body), callback);
        } catch (RuntimeException e) {
            callback.failed(e); // the connection is gone or the response already committed
        }
    }

    /** Jetty's own refusals (bad HTTP, headers too large, ...) in the protocol's error form. */
    private boolean jettyError(Request request, Response response, Callback callback) {
        int status = response.getStatus() >= 400 ? response.getStatus() : 400;
        send(response, callback, status, errorBody("HTTP " + status + " " + HttpStatus.getMessage(status)), JSON_TYPE,
                -1, false);
        return true;
    }

    private byte[] serverMetadata() {
        return json(g -> {
            g.writeStringField("name", "lora");
            g.writeStringField("version", OnnxDeployment.version().replaceFirst("^lora ", ""));
            g.writeArrayFieldStart("extensions");
            g.writeString("binary_tensor_data");
            g.writeEndArray();
        });
    }

    private byte[] modelMetadata() {
        return json(g -> {
            g.writeStringField("name", model.name());
            g.writeArrayFieldStart("versions");
            g.writeString(ServedModel.VERSION);
            g.writeEndArray();
            // an ONNX file: the platform name Triton gives the same graph (TritonRepository's)
            g.writeStringField("platform", model.estimator().onnxMetadata() != null ? TritonRepository.PLATFORM
                    : "lora_libtorch");
            g.writeArrayFieldStart("inputs");
            if (model.takesTensors()) {
                tensor(g, InferenceRequest.IMAGE, "FP32", -1, 3, -1, -1);
            }
            tensor(g, InferenceRequest.IMAGE_BYTES, "BYTES", -1);
            g.writeEndArray();
            g.writeArrayFieldStart("outputs");
            tensor(g, InferenceRequest.DEPTH, "FP32", -1, -1, -1);
            g.writeEndArray();
            g.writeObjectFieldStart("parameters");
            for (Map.Entry<String, String> e : model.parameters().entrySet()) {
                g.writeStringField(e.getKey(), e.getValue());
            }
            g.writeNumberField("max_batch_size", settings.maxBatch());
            g.writeEndObject();
        });
    }

    private static void tensor(JsonGenerator g, String name, String type, long... shape) throws IOException {
        g.writeStartObject();
        g.writeStringField("name", name);
        g.writeStringField("datatype", type);
        g.writeArrayFieldStart("shape");
        for (long s : shape) {
            g.writeNumber(s);
        }
        g.writeEndArray();
        g.writeEndObject();
    }

    static byte[] errorBody(String message) {
        return json(g -> g.writeStringField("error", Printable.of(message)));
    }

    private interface Fields {
        void write(JsonGenerator g) throws IOException;
    }

    private static byte[] json(Fields fields) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(256);
        try (JsonGenerator g = Json.JSON.getFactory().createGenerator(out)) {
            g.writeStartObject();
            fields.write(g);
            g.writeEndObject();
        } catch (IOException e) {
            throw new IllegalStateException(e); // in memory: cannot happen
        }
        return out.toByteArray();
    }

    private static byte[] sha256(byte[] b) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(b);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e); // every JVM has SHA-256
        }
    }

    /** Test hook: the metrics' request count for {@code status}. */
    long answered(int status) {
        return metrics.count(status);
    }
}
