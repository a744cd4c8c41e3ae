package com.loratool.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.loratool.io.Npy;
import java.io.ByteArrayOutputStream;
import java.io.StringWriter;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code lora serve} as its own process: the README's plain-Java client (docs/examples/DepthClient.java,
 * compiled here with javac, run with nothing but the JDK) gets lora predict's depth; a real SIGTERM
 * lets the request in flight finish, refuses new work, and the process exits 0.
 */
class ServeProcessTest {
    @TempDir
    Path dir;

    static final Path EXAMPLE = Path.of("docs/examples/DepthClient.java");

    @Test
    void theReadmeShowsTheExampleAsCompiled() throws Exception {
        String readme = Files.readString(Path.of("README.md"));
        int section = readme.indexOf("## Serving");
        assertTrue(section >= 0, "README.md has a Serving section");
        Matcher m = Pattern.compile("```java\n(.*?)```", Pattern.DOTALL).matcher(readme);
        assertTrue(m.find(section), "the Serving section has a ```java block");
        assertEquals(Files.readString(EXAMPLE), m.group(1), "README's client is docs/examples/DepthClient.java");
    }

    @Test
    void theJavaClientGetsPredictsDepthAndSigtermDrains() throws Exception {
        Path onnx = ServeFixture.exportOnnx(dir);
        StringWriter err = new StringWriter();
        assertEquals(0, ServeFixture.lora(new StringWriter(), err, "predict", "--onnx", onnx.toString(), "--input",
                ServeFixture.IMAGE.toString(), "--output", dir.resolve("p").toString()), err.toString());
        double mean = 0;
        float[] predicted = Npy.read(dir.resolve("p/image.npy")).data();
        for (float v : predicted) {
            mean += v;
        }
        mean /= predicted.length;

        Path token = Files.writeString(dir.resolve("token"), "t0ken\n");
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("surefire.test.class.path", System.getProperty("java.class.path")),
                "com.loratool.cli.Main", "serve", "--onnx", onnx.toString(), "--port", "0", "--token-file",
                token.toString(), "--drain-ms", "20000", "--threads", "1")); // one thread: a long forward to drain
        Path out = dir.resolve("stdout.txt");
        Path errFile = dir.resolve("stderr.txt");
        Process p = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(errFile.toFile()).start();
        try {
            String url = null;
            for (int i = 0; i < 1200 && url == null && p.isAlive(); i++) {
                Thread.sleep(50);
                url = ServeFixture.Server.urlOf(Files.readString(out));
            }
            assertTrue(url != null, Files.readString(errFile));
            assertTrue(Files.readString(errFile).contains("loaded 'depth' (depth in relative_disparity"));

            // the client example, compiled with javac and run with the JDK alone
            Path classes = Files.createDirectories(dir.resolve("classes"));
            JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
            ByteArrayOutputStream diag = new ByteArrayOutputStream();
            assertEquals(0, javac.run(null, diag, diag, "-d", classes.toString(), EXAMPLE.toString()),
                    diag.toString(StandardCharsets.UTF_8));
            Process client = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp",
                    classes.toString(), "DepthClient", url, "depth", ServeFixture.IMAGE.toString(), token.toString())
                    .redirectErrorStream(true).start();
            String said = new String(client.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
            assertTrue(client.waitFor(60, TimeUnit.SECONDS));
            assertEquals(0, client.exitValue(), said);
            Matcher m = Pattern.compile("depth 1 x 139 x 210, mean (\\S+)").matcher(said);
            assertTrue(m.matches(), said);
            assertEquals(mean, Double.parseDouble(m.group(1)), 1e-6, said);

            // SIGTERM while a long request (seconds of forward) is in flight: it is answered, then the process exits 0
            byte[] huge = ServeLimitsTest.tensor(1036);
            String infer = url + "/v2/models/depth/infer";
            CompletableFuture<HttpResponse<byte[]>> inFlight = CompletableFuture.supplyAsync(() -> {
                try {
                    return ServeFixture.post(infer, "t0ken", huge, ServeLimitsTest.headerLength(huge));
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            String metrics = "";
            for (int i = 0; i < 600 && !metrics.contains("lora_serve_in_flight 1"); i++) {
                Thread.sleep(10);
                metrics = new String(ServeFixture.get(url + "/metrics", "t0ken").body(), StandardCharsets.UTF_8);
            }
            assertTrue(metrics.contains("lora_serve_in_flight 1"), metrics);
            Thread.sleep(200); // read and in the forward pass (seconds, on one thread)
            p.destroy(); // SIGTERM
            HttpResponse<byte[]> r = inFlight.get(60, TimeUnit.SECONDS);
            assertEquals(200, r.statusCode(), new String(r.body(), StandardCharsets.UTF_8));
            assertEquals(1036 * 1036, ServeFixture.depth(r).length);
            assertTrue(p.waitFor(60, TimeUnit.SECONDS), "stopped");
            assertEquals(0, p.exitValue(), Files.readString(errFile));
            assertTrue(Files.readString(errFile).contains("stopping: no new requests; finishing 1 in flight"),
                    Files.readString(errFile));
            assertTrue(Files.readString(out).contains("stopped: every request answered"), Files.readString(out));
        } finally {
            p.destroyForcibly();
        }
    }
}
