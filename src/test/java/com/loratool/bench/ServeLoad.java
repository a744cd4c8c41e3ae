package com.loratool.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.loratool.config.SizeRule;
import com.loratool.data.Cv;
import com.loratool.data.Preprocessing;
import com.loratool.io.Json;
import com.loratool.model.DepthPredictor;
import com.loratool.train.ProcessMemory;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.opencv.core.Mat;
import org.opencv.imgcodecs.Imgcodecs;

/**
 * The load, overload and hostile tests of a running {@code lora serve} (scripts/serve-load.sh
 * starts the server and runs this on the test class path). Test code, not part of the toolkit: it
 * speaks the Open Inference Protocol's REST form (KServe v2) through the JDK's HTTP client, and,
 * for the hostile requests an HTTP client will not send, raw sockets ({@link HostileRequests}).
 *
 * <pre>
 * ServeLoad free-port
 * ServeLoad load     --url http://127.0.0.1:P --model depth --images DIR [--clients 16] [--requests 1000]
 *                    [--garbage 0.10] [--input png|png_json|binary|json] [--pid PID] [--timeout-ms 10000]
 *                    [--report FILE.json]
 * ServeLoad overload ... --rate REQ_PER_S [--seconds 20] [--rss-baseline-mb MB]
 * ServeLoad hostile  ... [--hostile 200]
 * any of them with --dry-run: the settings it would run with, and nothing sent
 * </pre>
 *
 * Prints a report and one {@code RESULT key=value ...} line for the script; exit 0 when the run's
 * criteria hold, 1 when one does not, 2 for bad arguments.
 */
public final class ServeLoad {
    private ServeLoad() {}

    /** The command line, checked. */
    record Settings(String command, URI url, String model, int clients, int requests, double garbage, Path images,
                    ServeRequests.Input input, long pid, int timeoutMs, double rate, int seconds, int hostile,
                    double rssBaselineMb, Path report, boolean dryRun) {

        static Settings parse(String... args) {
            if (args.length == 0) {
                throw new IllegalArgumentException("give a command: free-port, load, overload or hostile");
            }
            String command = args[0];
            if (!List.of("free-port", "load", "overload", "hostile").contains(command)) {
                throw new IllegalArgumentException("unknown command '" + command + "' (free-port, load, overload, hostile)");
            }
            Map<String, String> o = new TreeMap<>();
            boolean dry = false;
            for (int i = 1; i < args.length; i++) {
                String a = args[i];
                if (a.equals("--dry-run")) {
                    dry = true;
                    continue;
                }
                if (!a.startsWith("--") || i + 1 >= args.length) {
                    throw new IllegalArgumentException(a + ": expected --option VALUE");
                }
                if (!List.of("--url", "--model", "--clients", "--requests", "--garbage", "--images", "--input", "--pid",
                        "--timeout-ms", "--rate", "--seconds", "--hostile", "--rss-baseline-mb", "--report").contains(a)) {
                    throw new IllegalArgumentException("unknown option " + a);
                }
                if (o.put(a, args[++i]) != null) {
                    throw new IllegalArgumentException(a + " given twice");
                }
            }
            boolean needsServer = !command.equals("free-port");
            URI url = null;
            if (needsServer) {
                String u = require(o, "--url");
                try {
                    url = URI.create(u.endsWith("/") ? u.substring(0, u.length() - 1) : u);
                } catch (IllegalArgumentException e) {
                    throw new IllegalArgumentException("--url " + u + ": not a URL");
                }
                if (!"http".equals(url.getScheme()) || url.getHost() == null || url.getPort() < 1) {
                    throw new IllegalArgumentException("--url " + u + ": expected http://HOST:PORT");
                }
            }
            Path images = o.containsKey("--images") ? Path.of(o.get("--images")) : null;
            if (needsServer && !command.equals("hostile") && images == null) {
                throw new IllegalArgumentException("--images DIR: the images to send (PNG or JPEG)");
            }
            if (images != null && !Files.isDirectory(images)) {
                throw new IllegalArgumentException("--images " + images + ": not a folder");
            }
            ServeRequests.Input input;
            try {
                input = ServeRequests.Input.valueOf(o.getOrDefault("--input", "png"));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("--input " + o.get("--input") + ": png, png_json, binary or json");
            }
            double rate = number(o, "--rate", 0, 0, 100_000);
            if (command.equals("overload") && rate <= 0) {
                throw new IllegalArgumentException("overload: give --rate REQ_PER_S (twice what the load run measured)");
            }
            return new Settings(command, url, o.getOrDefault("--model", "depth"), (int) number(o, "--clients", 16, 1, 1024),
                    (int) number(o, "--requests", 1000, 1, 10_000_000), number(o, "--garbage", 0.10, 0, 1), images,
                    input, (long) number(o, "--pid", 0, 0, Long.MAX_VALUE), (int) number(o, "--timeout-ms", 10_000, 1,
                    3_600_000), rate, (int) number(o, "--seconds", 20, 1, 3600), (int) number(o, "--hostile", 200, 1,
                    100_000), number(o, "--rss-baseline-mb", 0, 0, 1e7),
                    o.containsKey("--report") ? Path.of(o.get("--report")) : null, dry);
        }

        private static String require(Map<String, String> o, String key) {
            String v = o.get(key);
            if (v == null) {
                throw new IllegalArgumentException("give " + key);
            }
            return v;
        }

        private static double number(Map<String, String> o, String key, double dflt, double min, double max) {
            String v = o.get(key);
            if (v == null) {
                return dflt;
            }
            double d;
            try {
                d = Double.parseDouble(v);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(key + " " + v + ": not a number");
            }
            if (!(d >= min && d <= max)) {
                throw new IllegalArgumentException(key + " " + v + ": must be " + min + " to " + max);
            }
            return d;
        }

        String describe() {
            String common = String.format(Locale.ROOT, "%s: url %s, model %s, time limit %d ms", command, url, model,
                    timeoutMs);
            return switch (command) {
                case "load" -> common + String.format(Locale.ROOT, ", %d clients, %d requests, %.0f%% garbage, input %s, "
                        + "images %s, server pid %s", clients, requests, garbage * 100, input, images, pid > 0 ? pid : "-");
                case "overload" -> common + String.format(Locale.ROOT, ", %.1f requests/s for %d s, input %s, images %s, "
                        + "server pid %s", rate, seconds, input, images, pid > 0 ? pid : "-");
                case "hostile" -> common + ", " + hostile + " hostile requests";
                default -> command;
            };
        }
    }

    public static void main(String[] args) {
        Settings s;
        try {
            s = Settings.parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println("serve-load: " + e.getMessage());
            System.exit(2);
            return;
        }
        if (s.dryRun()) {
            System.out.println("dry run: " + s.describe());
            return;
        }
        int rc;
        try {
            rc = switch (s.command()) {
                case "free-port" -> freePort();
                case "load" -> load(s);
                case "overload" -> overload(s);
                default -> HostileRequests.run(s);
            };
        } catch (IOException | RuntimeException e) {
            System.err.println("serve-load: " + e);
            rc = 2;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            rc = 2;
        }
        System.exit(rc);
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            System.out.println(s.getLocalPort());
        }
        return 0;
    }

    // ---- the images, as the requests carry them --------------------------------------------------

    /** One image: the file's bytes and its tensor at the model's size. */
    record Image(String name, byte[] file, float[] chw, int h, int w) {}

    static List<Path> imageFiles(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            List<Path> l = s.filter(p -> p.getFileName().toString().toLowerCase(Locale.ROOT).matches(".*\\.(png|jpe?g)"))
                    .sorted().toList();
            if (l.isEmpty()) {
                throw new IOException(dir + ": no PNG or JPEG images");
            }
            return l;
        }
    }

    /**
     * The images with their tensors preprocessed as the toolkit does ({@link Preprocessing#official}
     * to the size the served model takes, read from its metadata; 518 where the model is dynamic).
     */
    static List<Image> images(Settings s, HttpClient http) throws IOException, InterruptedException {
        int[] hw = modelSize(s, http);
        DepthPredictor.loadOpenCv();
        Preprocessing pre = Preprocessing.official(new SizeRule.Explicit(hw[0], hw[1]));
        List<Image> out = new ArrayList<>();
        for (Path p : imageFiles(s.images())) {
            Mat bgr = Cv.imread(p, Imgcodecs.IMREAD_COLOR, "image");
            try {
                out.add(new Image(p.getFileName().toString(), Files.readAllBytes(p), pre.fromBgr8(bgr).chw(), hw[0], hw[1]));
            } finally {
                bgr.release();
            }
        }
        return out;
    }

    /** H and W of the model's {@code image} input ({@code GET /v2/models/<name>}); 518 x 518 where they are -1. */
    static int[] modelSize(Settings s, HttpClient http) throws IOException, InterruptedException {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(s.url().resolve("/v2/models/" + s.model()))
                .timeout(Duration.ofSeconds(30)).GET().build(), HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 200) {
            throw new IOException("GET /v2/models/" + s.model() + ": " + r.statusCode() + " " + r.body());
        }
        JsonNode meta = Json.JSON.readTree(r.body());
        for (JsonNode in : meta.path("inputs")) {
            if ("image".equals(in.path("name").asText()) && in.path("shape").size() == 4) {
                long h = in.path("shape").get(2).asLong();
                long w = in.path("shape").get(3).asLong();
                return new int[] {h > 0 ? (int) h : 518, w > 0 ? (int) w : 518};
            }
        }
        return new int[] {518, 518};
    }

    // ---- one request and its outcome -----------------------------------------------------------

    /** What happened to one request. */
    record Outcome(String kind, String result, int status, long latencyNanos, boolean retryAfter, String detail) {}

    static HttpRequest httpRequest(Settings s, ServeRequests.Body b) {
        HttpRequest.Builder r = HttpRequest.newBuilder(s.url().resolve("/v2/models/" + b.model() + "/infer"))
                .timeout(Duration.ofMillis(s.timeoutMs() + 5_000L)).header("Content-Type", b.contentType())
                .POST(HttpRequest.BodyPublishers.ofByteArray(b.bytes()));
        if (b.headerLength() >= 0) {
            r.header("Inference-Header-Content-Length", String.valueOf(b.headerLength()));
        }
        return r.build();
    }

    /** The result class: ok, 4xx (right for garbage), 503, 5xx, wrong-answer, accepted-garbage, timeout, io-error. */
    static Outcome outcome(ServeRequests.Body b, HttpResponse<byte[]> r, Throwable failure, long nanos) {
        if (failure != null) {
            Throwable c = failure.getCause() != null && !(failure instanceof HttpTimeoutException) ? failure.getCause() : failure;
            return new Outcome(b.kind(), c instanceof HttpTimeoutException ? "timeout" : "io-error", 0, nanos, false,
                    c.getClass().getSimpleName());
        }
        int st = r.statusCode();
        boolean retry = r.headers().firstValue("Retry-After").isPresent();
        boolean valid = b.kind().equals("valid");
        String result;
        String detail = "";
        if (st == 200) {
            if (valid) {
                int hl = r.headers().firstValue("Inference-Header-Content-Length").map(Integer::parseInt).orElse(-1);
                detail = ServeRequests.checkAnswer(r.body(), hl);
                result = detail == null ? "ok" : "wrong-answer";
            } else {
                result = "accepted-garbage";
            }
        } else if (st == 503) {
            result = "503";
        } else if (st >= 400 && st < 500) {
            result = valid ? "4xx-on-valid" : "4xx";
        } else {
            result = st >= 500 ? "5xx" : "status-" + st;
        }
        return new Outcome(b.kind(), result, st, nanos, retry, detail == null ? "" : detail);
    }

    // ---- load: N closed-loop clients ------------------------------------------------------------

    /** The request plan: {@code requests} bodies, {@code garbage} of them (rounded) garbage, shuffled with a fixed seed. */
    static List<ServeRequests.Body> plan(Settings s, List<Image> images) {
        int nGarbage = (int) Math.round(s.requests() * s.garbage());
        List<ServeRequests.Body> valid = new ArrayList<>();
        for (Image im : images) {
            valid.add(ServeRequests.valid(s.input(), s.model(), im.file(), im.chw(), im.h(), im.w()));
        }
        ServeRequests.Garbage[] kinds = ServeRequests.Garbage.values();
        List<ServeRequests.Body> garbage = new ArrayList<>();
        for (int k = 0; k < kinds.length; k++) {
            Image im = images.get(k % images.size());
            garbage.add(ServeRequests.garbage(kinds[k], s.model(), im.file(), im.chw(), im.h(), im.w()));
        }
        List<ServeRequests.Body> plan = new ArrayList<>(s.requests());
        for (int i = 0; i < s.requests(); i++) {
            plan.add(i < nGarbage ? garbage.get(i % garbage.size()) : valid.get(i % valid.size()));
        }
        Collections.shuffle(plan, new Random(20261206L));
        return plan;
    }

    static HttpClient client(int threads) {
        return HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(10))
                .executor(Executors.newFixedThreadPool(threads)).build();
    }

    static int load(Settings s) throws IOException, InterruptedException {
        HttpClient http = client(Math.max(4, s.clients()));
        List<Image> images = images(s, http);
        List<ServeRequests.Body> plan = plan(s, images);
        RssSampler rss = RssSampler.start(s.pid());
        // one warm-up request per image, not counted (the server's first batch loads its kernels)
        for (ServeRequests.Body b : plan(new Settings(s.command(), s.url(), s.model(), 1, images.size(), 0, s.images(),
                s.input(), s.pid(), s.timeoutMs(), 0, 1, 1, 0, null, false), images)) {
            http.send(httpRequest(s, b), HttpResponse.BodyHandlers.ofByteArray());
        }
        ConcurrentLinkedQueue<Outcome> outcomes = new ConcurrentLinkedQueue<>();
        AtomicInteger next = new AtomicInteger();
        ExecutorService clients = Executors.newFixedThreadPool(s.clients());
        long t0 = System.nanoTime();
        for (int c = 0; c < s.clients(); c++) {
            clients.submit(() -> {
                for (int i = next.getAndIncrement(); i < plan.size(); i = next.getAndIncrement()) {
                    ServeRequests.Body b = plan.get(i);
                    long start = System.nanoTime();
                    HttpResponse<byte[]> r = null;
                    Throwable f = null;
                    try {
                        r = http.send(httpRequest(s, b), HttpResponse.BodyHandlers.ofByteArray());
                    } catch (IOException e) {
                        f = e;
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        return;
                    }
                    outcomes.add(outcome(b, r, f, System.nanoTime() - start));
                }
            });
        }
        clients.shutdown();
        clients.awaitTermination(1, TimeUnit.DAYS);
        double seconds = (System.nanoTime() - t0) / 1e9;
        rss.stop();
        List<Outcome> all = new ArrayList<>(outcomes);
        long ok = all.stream().filter(o -> o.result().equals("ok")).count();
        long garbageRight = all.stream().filter(o -> !o.kind().equals("valid") && o.result().equals("4xx")).count();
        long garbage = all.stream().filter(o -> !o.kind().equals("valid")).count();
        double[] lat = latenciesMs(all.stream().filter(o -> o.kind().equals("valid") && o.status() == 200).toList());
        double throughput = ok / seconds;
        System.out.printf(Locale.ROOT, "load: %d requests (%d garbage) from %d clients in %.2f s, input %s%n",
                all.size(), garbage, s.clients(), seconds, s.input());
        System.out.printf(Locale.ROOT, "  throughput %.2f images/s (valid answers), %.2f requests/s in all%n", throughput,
                all.size() / seconds);
        System.out.printf(Locale.ROOT, "  latency of valid requests: p50 %.1f ms, p95 %.1f ms, p99 %.1f ms, max %.1f ms%n",
                pct(lat, 50), pct(lat, 95), pct(lat, 99), lat.length == 0 ? Double.NaN : lat[lat.length - 1]);
        System.out.printf(Locale.ROOT, "  server peak RSS %.0f MB (VmRSS sampled every 100 ms; VmHWM %.0f MB)%n",
                rss.peakMb(), rss.hwmMb());
        printKinds(all);
        boolean pass = ok == all.size() - garbage && garbageRight == garbage;
        System.out.println("  " + (pass ? "every valid request answered with depth, every garbage one with a 4xx"
                : "NOT all valid requests answered with depth, or NOT all garbage with a 4xx (see the table)"));
        System.out.printf(Locale.ROOT, "RESULT mode=load throughput=%.3f p50_ms=%.1f p95_ms=%.1f p99_ms=%.1f "
                        + "peak_rss_mb=%.0f ok=%d garbage_4xx=%d garbage=%d requests=%d pass=%b%n", throughput,
                pct(lat, 50), pct(lat, 95), pct(lat, 99), rss.peakMb(), ok, garbageRight, garbage, all.size(), pass);
        report(s, "load", all, seconds, rss, Map.of("throughput_images_per_s", throughput));
        return pass ? 0 : 1;
    }

    // ---- overload: an open loop at a fixed rate ---------------------------------------------------

    static int overload(Settings s) throws IOException, InterruptedException {
        HttpClient http = client(64);
        List<Image> images = images(s, http);
        List<ServeRequests.Body> valid = new ArrayList<>();
        for (Image im : images) {
            valid.add(ServeRequests.valid(s.input(), s.model(), im.file(), im.chw(), im.h(), im.w()));
        }
        RssSampler rss = RssSampler.start(s.pid());
        int n = (int) Math.max(1, Math.round(s.rate() * s.seconds()));
        long interval = (long) (1e9 / s.rate());
        List<CompletableFuture<Outcome>> futures = new ArrayList<>(n);
        long t0 = System.nanoTime();
        for (int i = 0; i < n; i++) {
            long due = t0 + i * interval;
            long wait = due - System.nanoTime();
            if (wait > 0) {
                TimeUnit.NANOSECONDS.sleep(wait);
            }
            ServeRequests.Body b = valid.get(i % valid.size());
            futures.add(http.sendAsync(httpRequest(s, b), HttpResponse.BodyHandlers.ofByteArray())
                    .handle((r, f) -> outcome(b, r, f, System.nanoTime() - due)));
        }
        List<Outcome> all = new ArrayList<>();
        for (CompletableFuture<Outcome> f : futures) {
            all.add(f.join());
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        rss.stop();
        long ok = all.stream().filter(o -> o.result().equals("ok")).count();
        long busy = all.stream().filter(o -> o.status() == 503).count();
        long busyRetry = all.stream().filter(o -> o.status() == 503 && o.retryAfter()).count();
        double[] lat = latenciesMs(all.stream().filter(o -> o.status() != 0).toList());
        double limit = s.timeoutMs() + 1000.0; // the server's limit, plus the answer's way back and scheduling
        long late = Arrays.stream(lat).filter(x -> x > limit).count();
        long unanswered = all.stream().filter(o -> o.status() == 0).count();
        boolean bounded = s.rssBaselineMb() <= 0 || rss.peakMb() <= 1.5 * s.rssBaselineMb();
        System.out.printf(Locale.ROOT, "overload: %d requests offered at %.1f/s over %.1f s%n", n, s.rate(), seconds);
        System.out.printf(Locale.ROOT, "  %d answered with depth (%.2f/s), %d answered 503 (%d with Retry-After)%n", ok,
                ok / seconds, busy, busyRetry);
        System.out.printf(Locale.ROOT, "  latency of answered requests: p50 %.1f ms, p99 %.1f ms, max %.1f ms; %d past "
                        + "the time limit of %d ms (+1 s), %d without an answer%n", pct(lat, 50), pct(lat, 99),
                lat.length == 0 ? Double.NaN : lat[lat.length - 1], late, s.timeoutMs(), unanswered);
        System.out.printf(Locale.ROOT, "  server peak RSS %.0f MB%s%n", rss.peakMb(), s.rssBaselineMb() > 0
                ? String.format(Locale.ROOT, " (load run's %.0f MB: %s)", s.rssBaselineMb(), bounded
                ? "bounded, within 1.5x" : "NOT bounded, over 1.5x") : "");
        printKinds(all);
        boolean alive = HostileRequests.alive(s, http);
        boolean pass = busy > 0 && late == 0 && unanswered == 0 && bounded && alive
                && all.stream().allMatch(o -> o.result().equals("ok") || o.status() == 503);
        System.out.println("  " + (pass ? "overload handled: 503s, no request past its time limit, RSS bounded, alive"
                : "overload NOT handled as required (503s, time limit, RSS, every answer depth or 503, alive after)"));
        System.out.printf(Locale.ROOT, "RESULT mode=overload offered=%d ok=%d busy_503=%d retry_after=%d late=%d "
                        + "unanswered=%d peak_rss_mb=%.0f alive=%b pass=%b%n", n, ok, busy, busyRetry, late, unanswered,
                rss.peakMb(), alive, pass);
        report(s, "overload", all, seconds, rss, Map.of("offered_per_s", s.rate(), "late", late));
        return pass ? 0 : 1;
    }

    // ---- reporting ---------------------------------------------------------------------------------

    static double[] latenciesMs(List<Outcome> l) {
        return l.stream().mapToDouble(o -> o.latencyNanos() / 1e6).sorted().toArray();
    }

    /** The p-th percentile (nearest rank) of sorted values; NaN for none. */
    static double pct(double[] sorted, double p) {
        if (sorted.length == 0) {
            return Double.NaN;
        }
        int rank = (int) Math.ceil(p / 100.0 * sorted.length);
        return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
    }

    /** Counts by request kind and result (the "errors by kind" table). */
    static void printKinds(List<Outcome> all) {
        Map<String, Map<String, Integer>> t = new TreeMap<>();
        for (Outcome o : all) {
            t.computeIfAbsent(o.kind(), k -> new TreeMap<>()).merge(o.result() + (o.status() > 0 && !o.result()
                    .equals("ok") ? " (" + o.status() + ")" : ""), 1, Integer::sum);
        }
        System.out.println("  by kind:");
        t.forEach((k, m) -> System.out.printf("    %-22s %s%n", k, m));
        all.stream().filter(o -> o.result().equals("wrong-answer")).findFirst()
                .ifPresent(o -> System.out.println("    first wrong answer: " + o.detail()));
    }

    static void report(Settings s, String mode, List<Outcome> all, double seconds, RssSampler rss,
                       Map<String, Object> extra) throws IOException {
        if (s.report() == null) {
            return;
        }
        ObjectNode root = Json.JSON.createObjectNode();
        root.put("mode", mode);
        root.put("settings", s.describe());
        root.put("seconds", seconds);
        root.put("peak_rss_mb", rss.peakMb());
        extra.forEach((k, v) -> root.putPOJO(k, v));
        ObjectNode kinds = root.putObject("by_kind");
        for (Outcome o : all) {
            ObjectNode k = kinds.has(o.kind()) ? (ObjectNode) kinds.get(o.kind()) : kinds.putObject(o.kind());
            String key = o.result() + (o.status() > 0 ? "_" + o.status() : "");
            k.put(key, k.path(key).asInt() + 1);
        }
        double[] lat = latenciesMs(all.stream().filter(o -> o.status() == 200).toList());
        root.put("p50_ms", pct(lat, 50));
        root.put("p95_ms", pct(lat, 95));
        root.put("p99_ms", pct(lat, 99));
        Files.writeString(s.report(), Json.pretty(Json.JSON).writeValueAsString(root) + "\n");
    }

    /** The server's resident memory, sampled every 100 ms from /proc/PID/status (nothing without a pid). */
    static final class RssSampler {
        private final long pid;
        private volatile boolean running = true;
        private volatile double peakMb;
        private final Thread thread;

        private RssSampler(long pid) {
            this.pid = pid;
            this.thread = new Thread(this::loop, "rss-sampler");
            thread.setDaemon(true);
        }

        static RssSampler start(long pid) {
            RssSampler r = new RssSampler(pid);
            if (pid > 0) {
                r.thread.start();
            }
            return r;
        }

        private void loop() {
            while (running) {
                sample();
                try {
                    Thread.sleep(100);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }

        private void sample() {
            double v = field("VmRSS:");
            if (!Double.isNaN(v)) {
                peakMb = Math.max(peakMb, v);
            }
        }

        double field(String name) {
            if (pid <= 0) {
                return Double.NaN;
            }
            try {
                for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
                    if (line.startsWith(name)) {
                        return ProcessMemory.parseKb(line.substring(name.length())) / 1024.0;
                    }
                }
            } catch (IOException | NumberFormatException e) {
                // the process is gone
            }
            return Double.NaN;
        }

        void stop() throws InterruptedException {
            running = false;
            if (pid > 0) {
                sample();
                thread.join(1000);
            }
        }

        double peakMb() {
            return pid > 0 ? peakMb : Double.NaN;
        }

        double hwmMb() {
            return field("VmHWM:");
        }
    }
}
