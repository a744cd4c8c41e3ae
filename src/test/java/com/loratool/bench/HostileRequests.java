package com.loratool.bench;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import javax.imageio.ImageIO;

/**
 * Requests no HTTP client sends, over raw sockets: bodies cut short, a Content-Length that lies
 * (short, long, negative, not a number, twice), huge headers (one 256 KiB header, 4,000 headers),
 * slow senders (a few bytes every 200 ms), and binary tensor sizes that do not add up
 * ({@code Inference-Header-Content-Length} past the body, negative or not a number;
 * {@code binary_data_size} past the data or absurd; a BYTES element longer than what follows).
 * Each must end in a 4xx or a closed connection; the server must be alive afterwards.
 */
final class HostileRequests {
    private HostileRequests() {}

    enum Kind { truncated_body, wrong_content_length, huge_headers, slow_sender, invalid_binary_size }

    /** What the server did: its status line's code, or that it closed the connection, or nothing within the cap. */
    record Result(Kind kind, int variant, int status, String how, long millis) {
        /** 4xx, or a closed connection: what a hostile request must get. */
        boolean acceptable() {
            return (status >= 400 && status < 500) || how.equals("closed");
        }
    }

    static int run(ServeLoad.Settings s) throws InterruptedException, IOException {
        String host = s.url().getHost();
        int port = s.url().getPort();
        // the longest the server may take: its own time limit, and Jetty's idle timeout (30 s) for a silent client
        long capMs = Math.max(s.timeoutMs(), 30_000) + 15_000;
        ExecutorService pool = Executors.newFixedThreadPool(64);
        List<Future<Result>> futures = new ArrayList<>();
        Kind[] kinds = Kind.values();
        for (int i = 0; i < s.hostile(); i++) {
            Kind k = kinds[i % kinds.length];
            int variant = i / kinds.length;
            futures.add(pool.submit(() -> one(host, port, s.model(), k, variant, capMs)));
        }
        pool.shutdown();
        List<Result> results = new ArrayList<>();
        for (Future<Result> f : futures) {
            try {
                results.add(f.get());
            } catch (ExecutionException e) {
                results.add(new Result(Kind.truncated_body, -1, 0, "client-error " + e.getCause(), 0));
            }
        }
        Map<String, Map<String, Integer>> t = new TreeMap<>();
        for (Result r : results) {
            t.computeIfAbsent(r.kind().name(), x -> new TreeMap<>()).merge(r.status() > 0 ? String.valueOf(r.status())
                    : r.how(), 1, Integer::sum);
        }
        long fourXx = results.stream().filter(r -> r.status() >= 400 && r.status() < 500).count();
        long closed = results.stream().filter(r -> r.how().equals("closed")).count();
        long bad = results.stream().filter(r -> !r.acceptable()).count();
        long slowest = results.stream().mapToLong(Result::millis).max().orElse(0);
        HttpClient http = ServeLoad.client(4);
        boolean alive = alive(s, http);
        System.out.printf(Locale.ROOT, "hostile: %d requests: %d answered 4xx, %d closed, %d otherwise (slowest %.1f s)%n",
                results.size(), fourXx, closed, bad, slowest / 1000.0);
        System.out.println("  by kind (status or what happened):");
        t.forEach((k, m) -> System.out.printf("    %-22s %s%n", k, m));
        results.stream().filter(r -> !r.acceptable()).limit(5).forEach(r -> System.out.println("    not 4xx/closed: "
                + r.kind() + " variant " + r.variant() + ": " + (r.status() > 0 ? r.status() + " " : "") + r.how()));
        System.out.println("  server alive afterwards (ready 200 and a valid inference 200): " + alive);
        boolean pass = bad == 0 && alive;
        System.out.printf(Locale.ROOT, "RESULT mode=hostile requests=%d answered_4xx=%d closed=%d other=%d alive=%b "
                + "pass=%b%n", results.size(), fourXx, closed, bad, alive, pass);
        return pass ? 0 : 1;
    }

    /** {@code GET /v2/health/ready} is 200 and one valid request ({@code image_bytes}, a tiny PNG) gets depth. */
    static boolean alive(ServeLoad.Settings s, HttpClient http) {
        try {
            HttpResponse<String> ready = http.send(HttpRequest.newBuilder(s.url().resolve("/v2/health/ready"))
                    .timeout(Duration.ofSeconds(10)).GET().build(), HttpResponse.BodyHandlers.ofString());
            if (ready.statusCode() != 200) {
                return false;
            }
            ServeRequests.Body b = ServeRequests.bytesBinary(s.model(), TINY_PNG, "valid");
            HttpResponse<byte[]> r = http.send(ServeLoad.httpRequest(s, b), HttpResponse.BodyHandlers.ofByteArray());
            return ServeLoad.outcome(b, r, null, 0).result().equals("ok");
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** A valid 32 x 32 grey PNG (made with the JDK's ImageIO once, for the liveness request). */
    static final byte[] TINY_PNG = tinyPng();

    private static byte[] tinyPng() {
        try {
            BufferedImage im = new BufferedImage(32, 32, BufferedImage.TYPE_3BYTE_BGR);
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            ImageIO.write(im, "png", out);
            return out.toByteArray();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }

    private static String head(String model, String extraHeaders) {
        return "POST /v2/models/" + model + "/infer HTTP/1.1\r\nHost: localhost\r\n" + extraHeaders;
    }

    /** A valid binary request's JSON header (image_bytes, BYTES [1], binary_data_size as given). */
    private static String bytesHeader(long binarySize) {
        return "{\"inputs\":[{\"name\":\"image_bytes\",\"datatype\":\"BYTES\",\"shape\":[1],\"parameters\":"
                + "{\"binary_data_size\":" + binarySize + "}}]}";
    }

    /** One hostile request of {@code kind} ({@code variant} picks among its forms); never throws. */
    static Result one(String host, int port, String model, Kind kind, int variant, long capMs) {
        long t0 = System.currentTimeMillis();
        try (Socket sock = new Socket()) {
            sock.connect(new InetSocketAddress(host, port), 10_000);
            sock.setSoTimeout(1000);
            OutputStream out = sock.getOutputStream();
            InputStream in = sock.getInputStream();
            ByteArrayOutputStream answer = new ByteArrayOutputStream();
            String json = "{\"inputs\":[{\"name\":\"image\",\"datatype\":\"FP32\",\"shape\":[1,3,2,2],\"data\":"
                    + "[0,0,0,0,0,0,0,0,0,0,0,0]}]}";
            switch (kind) {
                case truncated_body -> {
                    // says 100,000 bytes, sends 1,000, then ends its side
                    send(out, head(model, "Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n"));
                    out.write(new byte[1000]);
                    out.flush();
                    if (variant % 2 == 0) {
                        sock.shutdownOutput();
                    } // else: keeps the connection open, silent, until the server gives up
                }
                case wrong_content_length -> {
                    String cl = switch (variant % 5) {
                        case 0 -> "Content-Length: 10\r\n"; // shorter than the body: the rest is a garbage request
                        case 1 -> "Content-Length: -1\r\n";
                        case 2 -> "Content-Length: abc\r\n";
                        case 3 -> "Content-Length: 10\r\nContent-Length: " + json.length() + "\r\n";
                        default -> "Content-Length: 99999999999999999999\r\n";
                    };
                    send(out, head(model, "Content-Type: application/json\r\n" + cl + "\r\n") + json);
                }
                case huge_headers -> {
                    StringBuilder h = new StringBuilder();
                    if (variant % 2 == 0) {
                        h.append("X-Pad: ").append("a".repeat(256 * 1024)).append("\r\n");
                    } else {
                        for (int i = 0; i < 4000; i++) {
                            h.append("X-Pad-").append(i).append(": ").append("b".repeat(20)).append("\r\n");
                        }
                    }
                    send(out, head(model, h + "Content-Type: application/json\r\nContent-Length: " + json.length()
                            + "\r\n\r\n") + json);
                }
                case slow_sender -> {
                    // a big body promised, a few bytes every 200 ms, until the server answers or closes (or the cap)
                    send(out, head(model, "Content-Type: application/json\r\nContent-Length: 1000000\r\n\r\n"));
                    sock.setSoTimeout(200);
                    byte[] drip = ascii("[0,0,0,0,");
                    while (System.currentTimeMillis() - t0 < capMs) {
                        try {
                            out.write(drip);
                            out.flush();
                        } catch (IOException e) {
                            return finish(in, answer, kind, variant, t0, capMs, true);
                        }
                        try {
                            int n = in.read();
                            if (n < 0) {
                                return new Result(kind, variant, 0, "closed", System.currentTimeMillis() - t0);
                            }
                            answer.write(n);
                            return finish(in, answer, kind, variant, t0, capMs, false);
                        } catch (SocketTimeoutException e) {
                            // nothing yet: drip on
                        }
                    }
                    return new Result(kind, variant, 0, "no-answer", System.currentTimeMillis() - t0);
                }
                case invalid_binary_size -> {
                    byte[] data = new byte[64];
                    String header;
                    String ihcl;
                    switch (variant % 6) {
                        case 0 -> { // the header length past the whole body
                            header = bytesHeader(data.length);
                            ihcl = String.valueOf(header.length() + data.length + 100);
                        }
                        case 1 -> {
                            header = bytesHeader(data.length);
                            ihcl = "-5";
                        }
                        case 2 -> {
                            header = bytesHeader(data.length);
                            ihcl = "twelve";
                        }
                        case 3 -> { // binary_data_size past the data
                            header = bytesHeader(1_000_000);
                            ihcl = null;
                        }
                        case 4 -> { // absurd binary_data_size
                            header = bytesHeader(1L << 40);
                            ihcl = null;
                        }
                        default -> { // the BYTES element's length past what follows
                            header = bytesHeader(data.length);
                            data[0] = (byte) 0xff;
                            data[1] = (byte) 0xff;
                            data[2] = (byte) 0xff;
                            data[3] = (byte) 0x7f;
                            ihcl = null;
                        }
                    }
                    byte[] h = ascii(header);
                    send(out, head(model, "Content-Type: application/octet-stream\r\nInference-Header-Content-Length: "
                            + (ihcl != null ? ihcl : String.valueOf(h.length)) + "\r\nContent-Length: "
                            + (h.length + data.length) + "\r\n\r\n"));
                    out.write(h);
                    out.write(data);
                    out.flush();
                }
                default -> throw new IllegalStateException();
            }
            return finish(in, answer, kind, variant, t0, capMs, false);
        } catch (IOException e) {
            // refused or reset while sending: the server closed on us
            return new Result(kind, variant, 0, "closed", System.currentTimeMillis() - t0);
        }
    }

    private static void send(OutputStream out, String s) throws IOException {
        out.write(ascii(s));
        out.flush();
    }

    /** Reads until the status line is complete, the server closes, or the cap passes. */
    private static Result finish(InputStream in, ByteArrayOutputStream answer, Kind kind, int variant, long t0,
                                 long capMs, boolean writeFailed) {
        byte[] buf = new byte[4096];
        while (System.currentTimeMillis() - t0 < capMs) {
            int status = status(answer.toByteArray());
            if (status > 0) {
                return new Result(kind, variant, status, "answered", System.currentTimeMillis() - t0);
            }
            if (status < 0) {
                return new Result(kind, variant, 0, "not-http", System.currentTimeMillis() - t0);
            }
            try {
                int n = in.read(buf);
                if (n < 0) {
                    return new Result(kind, variant, 0, "closed", System.currentTimeMillis() - t0);
                }
                answer.write(buf, 0, n);
            } catch (SocketTimeoutException e) {
                // wait on
            } catch (IOException e) {
                return new Result(kind, variant, 0, "closed", System.currentTimeMillis() - t0);
            }
        }
        return new Result(kind, variant, 0, writeFailed ? "closed" : "no-answer", System.currentTimeMillis() - t0);
    }

    /** The code of a complete {@code HTTP/1.1 NNN ...} status line; 0 until there is one. */
    static int status(byte[] b) {
        String s = new String(b, StandardCharsets.ISO_8859_1);
        int eol = s.indexOf("\r\n");
        if (eol < 0) {
            return 0;
        }
        String[] p = s.substring(0, eol).split(" ");
        if (p.length < 2 || !p[0].startsWith("HTTP/")) {
            return -1;
        }
        try {
            return Integer.parseInt(p[1]);
        } catch (NumberFormatException e) {
            return -1;
        }
    }
}
