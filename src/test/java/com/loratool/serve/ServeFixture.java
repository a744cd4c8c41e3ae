package com.loratool.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.loratool.cli.Main;
import com.loratool.io.Json;
import com.loratool.io.Signals;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import picocli.CommandLine;

/**
 * Test helpers: the tiny fixture model exported to ONNX, {@code lora serve} run in-process through
 * the CLI (stopped with a simulated SIGTERM, as io.Interrupts sees a real one), and an HTTP client.
 */
final class ServeFixture {
    static final Path FIX = Path.of(System.getProperty("fixtures.dir", "fixtures"), "da2-tiny");
    static final Path WEIGHTS = FIX.resolve("weights.pth");
    static final Path YAML = FIX.resolve("model.yaml");
    static final Path IMAGE = FIX.resolve("image.png");
    static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

    private ServeFixture() {}

    /** Runs a lora command in-process; returns the exit code, stdout and stderr in {@code out}/{@code err}. */
    static int lora(StringWriter out, StringWriter err, String... args) {
        CommandLine cl = Main.commandLine();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        return cl.execute(args);
    }

    /** The tiny fixture exported as a dynamic ONNX file (input size 70), as lora export writes it. */
    static Path exportOnnx(Path dir) {
        Path onnx = dir.resolve("tiny.onnx");
        StringWriter err = new StringWriter();
        assertEquals(0, lora(new StringWriter(), err, "export", "--format", "onnx", "--weights", WEIGHTS.toString(),
                "--model-config", YAML.toString(), "--dynamic", "--input-size", "70", "--output", onnx.toString()),
                err.toString());
        return onnx;
    }

    /** {@code lora serve ARGS --port 0} running in a thread of this JVM. */
    static final class Server implements AutoCloseable {
        final StringWriter out = new StringWriter();
        final StringWriter err = new StringWriter();
        final AtomicInteger code = new AtomicInteger(-1);
        final Thread thread;
        final String url;

        Server(String... args) throws InterruptedException {
            Signals.reset(System.err);
            String[] all = new String[args.length + 3];
            all[0] = "serve";
            System.arraycopy(args, 0, all, 1, args.length);
            all[args.length + 1] = "--port";
            all[args.length + 2] = "0";
            thread = new Thread(() -> code.set(lora(out, err, all)), "serve-under-test");
            thread.setDaemon(true);
            thread.start();
            long until = System.nanoTime() + Duration.ofSeconds(120).toNanos();
            String u = null;
            while (u == null && thread.isAlive() && System.nanoTime() < until) {
                Thread.sleep(20);
                u = urlOf(out.toString());
            }
            url = u != null ? u : urlOf(out.toString());
        }

        /** The base URL from the "serving 'NAME' at http://HOST:PORT/v2/models/NAME" line, or null. */
        static String urlOf(String stdout) {
            int at = stdout.indexOf(" at http://");
            if (at < 0) {
                return null;
            }
            int end = stdout.indexOf("/v2/models/", at);
            return end < 0 ? null : stdout.substring(at + 4, end);
        }

        /** Stops it as SIGTERM does; returns the exit code. */
        int stop() throws InterruptedException {
            Signals.send("TERM");
            thread.join(60_000);
            Signals.reset(System.err);
            return code.get();
        }

        @Override
        public void close() throws InterruptedException {
            if (thread.isAlive()) {
                stop();
            }
        }
    }

    static HttpResponse<byte[]> get(String url, String token) throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(60));
        if (token != null) {
            b.header("Authorization", "Bearer " + token);
        }
        return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
    }

    /** POST {@code body}; {@code headerLength} > 0 adds Inference-Header-Content-Length. */
    static HttpResponse<byte[]> post(String url, String token, byte[] body, int headerLength)
            throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(60))
                .POST(HttpRequest.BodyPublishers.ofByteArray(body));
        if (token != null) {
            b.header("Authorization", "Bearer " + token);
        }
        if (headerLength > 0) {
            b.header("Inference-Header-Content-Length", String.valueOf(headerLength))
                    .header("Content-Type", "application/octet-stream");
        } else {
            b.header("Content-Type", "application/json");
        }
        return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
    }

    static JsonNode json(HttpResponse<byte[]> r) throws IOException {
        return Json.JSON.readTree(r.body());
    }

    /** The error body's one line; fails unless the body is {"error": "..."} alone. */
    static String error(HttpResponse<byte[]> r) throws IOException {
        JsonNode n = json(r);
        assertEquals(1, n.size(), n.toString());
        String e = n.get("error").asText();
        assertTrue(!e.contains("\n") && !e.contains("Exception") && !e.contains("\tat "), e);
        return e;
    }

    /** A JSON header + binary section. */
    static byte[] concat(byte[] header, byte[] binary) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        b.writeBytes(header);
        b.writeBytes(binary);
        return b.toByteArray();
    }

    static byte[] littleEndian(float[] x) {
        ByteBuffer b = ByteBuffer.allocate(x.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(x);
        return b.array();
    }

    static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /** The depth of a response, JSON or binary (Inference-Header-Content-Length). */
    static float[] depth(HttpResponse<byte[]> r) throws IOException {
        assertEquals(200, r.statusCode(), new String(r.body(), StandardCharsets.UTF_8));
        String hl = r.headers().firstValue("Inference-Header-Content-Length").orElse(null);
        if (hl == null) {
            JsonNode data = json(r).get("outputs").get(0).get("data");
            float[] d = new float[data.size()];
            for (int i = 0; i < d.length; i++) {
                d[i] = data.get(i).floatValue();
            }
            return d;
        }
        int n = Integer.parseInt(hl);
        JsonNode head = Json.JSON.readTree(new String(r.body(), 0, n, StandardCharsets.UTF_8));
        assertEquals(r.body().length - n, head.get("outputs").get(0).get("parameters").get("binary_data_size").asInt());
        ByteBuffer b = ByteBuffer.wrap(r.body(), n, r.body().length - n).order(ByteOrder.LITTLE_ENDIAN);
        float[] d = new float[b.remaining() / 4];
        b.asFloatBuffer().get(d);
        return d;
    }

    static double maxAbsDiff(float[] a, float[] b) {
        assertEquals(a.length, b.length, "element counts");
        double m = 0;
        for (int i = 0; i < a.length; i++) {
            m = Math.max(m, Math.abs(a[i] - (double) b[i]));
        }
        return m;
    }
}
