package com.loratool.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.loratool.io.Json;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The load test's own pieces, without a server (scripts/serve-load.sh runs it against a real
 * {@code lora serve}): its arguments, the request plan, the binary bodies' layout (KServe v2's
 * binary tensor data extension), the answer check, the percentiles and the status-line reader.
 */
class ServeLoadTest {
    static final String IMAGES = Path.of(System.getProperty("project.root", "."), "data-samples/images").toString();

    @Test
    void argumentsHaveDefaultsAndOneLineRefusals() {
        ServeLoad.Settings s = ServeLoad.Settings.parse("load", "--url", "http://127.0.0.1:8123/", "--images", IMAGES,
                "--dry-run");
        assertEquals(16, s.clients());
        assertEquals(1000, s.requests());
        assertEquals(0.10, s.garbage());
        assertEquals(ServeRequests.Input.png, s.input());
        assertEquals("depth", s.model());
        assertEquals(8123, s.url().getPort());
        assertTrue(s.dryRun());
        assertTrue(s.describe().startsWith("load: url http://127.0.0.1:8123, model depth, time limit 10000 ms, 16 "
                + "clients, 1000 requests, 10% garbage, input png"), s.describe());
        for (String[] bad : new String[][] {{}, {"serve"}, {"load", "--url", "http://x:1"},
                {"load", "--url", "ftp://x:1", "--images", IMAGES}, {"load", "--url", "http://x:1", "--images", IMAGES,
                    "--clients", "0"}, {"load", "--url", "http://x:1", "--images", IMAGES, "--garbage", "1.5"},
                {"load", "--url", "http://x:1", "--images", IMAGES, "--input", "jpeg"},
                {"overload", "--url", "http://x:1", "--images", IMAGES}, {"hostile", "--url", "http://x:1", "--bogus", "1"},
                {"load", "--url", "http://x:1", "--images", IMAGES, "--clients"},
                {"load", "--url", "http://x:1", "--images", "/no/such/folder"}}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> ServeLoad.Settings.parse(bad), Arrays.toString(bad));
            assertEquals(1, e.getMessage().lines().count());
        }
        ServeLoad.Settings h = ServeLoad.Settings.parse("hostile", "--url", "http://127.0.0.1:9", "--timeout-ms", "5000");
        assertEquals(200, h.hostile());
        assertEquals(5000, h.timeoutMs());
    }

    @Test
    void theRequestPlanHasItsShareOfGarbage() {
        ServeLoad.Settings s = ServeLoad.Settings.parse("load", "--url", "http://127.0.0.1:1", "--images", IMAGES,
                "--requests", "1000", "--input", "binary");
        float[] chw = new float[3 * 14 * 14];
        List<ServeLoad.Image> images = List.of(new ServeLoad.Image("a.png", new byte[] {1, 2, 3}, chw, 14, 14));
        List<ServeRequests.Body> plan = ServeLoad.plan(s, images);
        assertEquals(1000, plan.size());
        assertEquals(100, plan.stream().filter(b -> !b.kind().equals("valid")).count());
        assertEquals(ServeRequests.Garbage.values().length, plan.stream().map(ServeRequests.Body::kind)
                .filter(k -> !k.equals("valid")).distinct().count());
    }

    @Test
    void binaryBodiesFollowTheExtension() throws Exception {
        float[] chw = new float[3 * 2 * 2];
        chw[5] = 1.5f;
        ServeRequests.Body b = ServeRequests.tensorBinary("depth", chw, 2, 2, "valid");
        JsonNode header = Json.JSON.readTree(new String(b.bytes(), 0, b.headerLength(), StandardCharsets.UTF_8));
        JsonNode in = header.get("inputs").get(0);
        assertEquals("image", in.get("name").asText());
        assertEquals("FP32", in.get("datatype").asText());
        assertEquals("[1,3,2,2]", in.get("shape").toString());
        assertEquals(48, in.get("parameters").get("binary_data_size").asInt());
        assertEquals(b.headerLength() + 48, b.bytes().length);
        assertEquals(1.5f, ByteBuffer.wrap(b.bytes(), b.headerLength() + 20, 4).order(ByteOrder.LITTLE_ENDIAN).getFloat());
        assertTrue(header.get("outputs").get(0).get("parameters").get("binary_data").asBoolean());
        assertEquals("application/octet-stream", b.contentType());

        byte[] png = {(byte) 0x89, 'P', 'N', 'G'};
        ServeRequests.Body p = ServeRequests.bytesBinary("depth", png, "valid");
        JsonNode ph = Json.JSON.readTree(new String(p.bytes(), 0, p.headerLength(), StandardCharsets.UTF_8));
        assertEquals("BYTES", ph.get("inputs").get(0).get("datatype").asText());
        assertEquals(8, ph.get("inputs").get(0).get("parameters").get("binary_data_size").asInt());
        assertEquals(4, ByteBuffer.wrap(p.bytes(), p.headerLength(), 4).order(ByteOrder.LITTLE_ENDIAN).getInt());

        ServeRequests.Body j = ServeRequests.valid(ServeRequests.Input.json, "depth", png, chw, 2, 2);
        assertEquals(-1, j.headerLength());
        assertEquals(12, Json.JSON.readTree(j.bytes()).get("inputs").get(0).get("data").size());
        ServeRequests.Body cut = ServeRequests.garbage(ServeRequests.Garbage.binary_size_mismatch, "depth", png, chw, 2, 2);
        assertEquals(cut.headerLength() + 44, cut.bytes().length); // one float short of binary_data_size
    }

    @Test
    void answersAreChecked() {
        String ok = "{\"outputs\":[{\"name\":\"depth\",\"datatype\":\"FP32\",\"shape\":[1,2,2],\"parameters\":"
                + "{\"binary_data_size\":16}}]}";
        byte[] body = new byte[ok.length() + 16];
        System.arraycopy(ok.getBytes(StandardCharsets.UTF_8), 0, body, 0, ok.length());
        assertNull(ServeRequests.checkAnswer(body, ok.length()));
        assertTrue(ServeRequests.checkAnswer(Arrays.copyOf(body, body.length - 4), ok.length()).contains("binary_data_size"));
        assertNull(ServeRequests.checkAnswer(("{\"outputs\":[{\"name\":\"depth\",\"datatype\":\"FP32\",\"shape\":[1,1,2],"
                + "\"data\":[1,2]}]}").getBytes(StandardCharsets.UTF_8), -1));
        assertEquals("no output 'depth'", ServeRequests.checkAnswer("{\"outputs\":[{\"name\":\"x\"}]}"
                .getBytes(StandardCharsets.UTF_8), -1));
    }

    @Test
    void percentilesAndStatusLines() {
        double[] v = new double[100];
        for (int i = 0; i < 100; i++) {
            v[i] = i + 1;
        }
        assertEquals(50, ServeLoad.pct(v, 50));
        assertEquals(95, ServeLoad.pct(v, 95));
        assertEquals(99, ServeLoad.pct(v, 99));
        assertTrue(Double.isNaN(ServeLoad.pct(new double[0], 50)));
        assertEquals(431, HostileRequests.status("HTTP/1.1 431 Request Header Fields Too Large\r\n".getBytes(
                StandardCharsets.ISO_8859_1)));
        assertEquals(0, HostileRequests.status("HTTP/1.1 40".getBytes(StandardCharsets.ISO_8859_1)));
        assertEquals(-1, HostileRequests.status("garbage\r\n".getBytes(StandardCharsets.ISO_8859_1)));
        assertTrue(HostileRequests.TINY_PNG.length > 8 && HostileRequests.TINY_PNG[1] == 'P');
    }
}
