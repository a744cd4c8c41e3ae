package com.loratool.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Requests no HTTP client would send, over a raw socket: huge headers, a Content-Length that is no
 * number or lies, a body cut short, bytes that are not HTTP, a slow sender. Each gets a 4xx with
 * {"error": ...} (or a closed connection), and the server is alive afterwards.
 */
class ServeHostileTest {
    @TempDir
    Path dir;

    private static String raw(int port, String request, long pauseMs) throws Exception {
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setSoTimeout(10_000);
            OutputStream o = s.getOutputStream();
            try {
                o.write(request.getBytes(StandardCharsets.ISO_8859_1));
                o.flush();
            } catch (IOException refused) {
                // the server answered and closed before the whole request was sent: read its answer
            }
            if (pauseMs > 0) { // a slow sender: a few bytes, then a pause longer than the time limit
                Thread.sleep(pauseMs);
                try {
                    o.write("[".getBytes(StandardCharsets.ISO_8859_1));
                } catch (IOException closed) {
                    // the server may have closed already
                }
            } else if (!s.isOutputShutdown()) {
                try {
                    s.shutdownOutput();
                } catch (IOException closed) {
                    // already closed by the server
                }
            }
            ByteArrayOutputStream b = new ByteArrayOutputStream();
            try {
                s.getInputStream().transferTo(b);
            } catch (IOException reset) {
                // a closed connection is an answer too
            }
            return b.toString(StandardCharsets.ISO_8859_1);
        }
    }

    @Test
    void hostileRequestsGet4xxAndTheServerLives() throws Exception {
        Path onnx = ServeFixture.exportOnnx(dir);
        try (ServeFixture.Server s = new ServeFixture.Server("--onnx", onnx.toString(), "--timeout-ms", "1000",
                "--max-body-mb", "2")) {
            int port = URI.create(s.url).getPort();
            String post = "POST /v2/models/depth/infer HTTP/1.1\r\nHost: x\r\n";
            String[][] cases = {
                {"GET /v2 HTTP/1.1\r\nHost: x\r\nX-Big: " + "a".repeat(40_000) + "\r\n\r\n", "431"},
                {post + "Content-Length: abc\r\n\r\n{}", "400"},
                {post + "Content-Length: -5\r\n\r\n", "400"},
                {post + "Content-Length: 1000\r\n\r\n{\"inputs\":", "400"},
                {post + "Content-Length: 5\r\nConnection: close\r\n\r\n{\"inputs\":[]}", "400"},
                {post + "Inference-Header-Content-Length: 99999\r\nContent-Length: 2\r\n\r\n{}", "400"},
                {post + "Inference-Header-Content-Length: x\r\nContent-Length: 2\r\n\r\n{}", "400"},
                {post + "Transfer-Encoding: chunked\r\n\r\nZZ\r\nabc\r\n0\r\n\r\n", "400"},
                {"\u0001\u0002GARBAGE\r\n\r\n", "400"},
                // over --max-body-mb without a Content-Length to refuse it by: chunked, 3 MiB
                {post + "Transfer-Encoding: chunked\r\n\r\n300000\r\n" + "x".repeat(3 * 1024 * 1024) + "\r\n0\r\n\r\n",
                    "413"},
            };
            for (String[] c : cases) {
                String answer = raw(port, c[0], 0);
                assertTrue(answer.startsWith("HTTP/1.1 " + c[1]) && answer.contains("{\"error\":\""),
                        c[0].substring(0, Math.min(80, c[0].length())) + " -> " + answer);
                assertTrue(!answer.contains("Exception") && !answer.contains("\tat "), answer);
            }
            // a slow sender: the time limit answers it (408), it does not hold the server
            String slow = raw(port, post + "Content-Length: 100\r\n\r\n{\"inputs\":", 1500);
            assertTrue(slow.isEmpty() || slow.startsWith("HTTP/1.1 408"), slow);
            assertEquals(200, ServeFixture.get(s.url + "/v2/health/live", null).statusCode());
            assertEquals(200, ServeFixture.get(s.url + "/v2/models/depth", null).statusCode());
            assertEquals(0, s.stop(), s.err.toString());
        }
    }
}
