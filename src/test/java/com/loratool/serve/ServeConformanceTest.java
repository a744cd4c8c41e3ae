package com.loratool.serve;

import static com.loratool.serve.ServeFixture.concat;
import static com.loratool.serve.ServeFixture.depth;
import static com.loratool.serve.ServeFixture.get;
import static com.loratool.serve.ServeFixture.json;
import static com.loratool.serve.ServeFixture.littleEndian;
import static com.loratool.serve.ServeFixture.maxAbsDiff;
import static com.loratool.serve.ServeFixture.post;
import static com.loratool.serve.ServeFixture.utf8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.loratool.config.SizeRule;
import com.loratool.data.Cv;
import com.loratool.data.Preprocessing;
import com.loratool.io.Checksums;
import com.loratool.io.Npy;
import java.io.StringWriter;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Base64;
import java.util.Collections;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.opencv.core.Mat;
import org.opencv.core.Rect;
import org.opencv.imgcodecs.Imgcodecs;

/**
 * Issue 28's conformance: {@code lora serve} on a free port with the tiny fixture exported to ONNX,
 * every endpoint called, infer with JSON and binary tensors and with image bytes; the depth equals
 * {@code lora predict --onnx}'s to 1e-6. Then each class of bad request: a 4xx with
 * {"error": "..."}, and the server goes on serving.
 */
class ServeConformanceTest {
    static final String TOKEN = "s3cret-token";

    @TempDir
    static Path dir;
    static Path onnx;
    static Path square;
    static float[] predictedImage;
    static float[] predictedSquare;
    static ServeFixture.Server server;
    static String infer;

    @BeforeAll
    static void serve() throws Exception {
        onnx = ServeFixture.exportOnnx(dir);
        // a 70 x 70 crop: its network input is itself (shorter side 70), so predict's depth is the network's
        Cv.load();
        Mat img = Imgcodecs.imread(ServeFixture.IMAGE.toString());
        square = dir.resolve("square.png");
        assertTrue(Imgcodecs.imwrite(square.toString(), new Mat(img, new Rect(20, 30, 70, 70))));
        for (Path image : new Path[] {ServeFixture.IMAGE, square}) {
            StringWriter err = new StringWriter();
            assertEquals(0, ServeFixture.lora(new StringWriter(), err, "predict", "--onnx", onnx.toString(), "--input",
                    image.toString(), "--output", dir.resolve("predicted").toString()), err.toString());
        }
        predictedImage = Npy.read(dir.resolve("predicted/image.npy")).data();
        predictedSquare = Npy.read(dir.resolve("predicted/square.npy")).data();
        Path token = dir.resolve("token.txt");
        Files.writeString(token, TOKEN + "\n");
        server = new ServeFixture.Server("--onnx", onnx.toString(), "--token-file", token.toString(), "--max-body-mb",
                "2", "--name", "tiny");
        assertTrue(server.url != null, server.err.toString());
        infer = server.url + "/v2/models/tiny/infer";
    }

    @AfterAll
    static void stop() throws Exception {
        if (server != null) {
            assertEquals(0, server.stop(), server.err.toString());
            assertTrue(server.out.toString().contains("stopped: every request answered"), server.out.toString());
        }
    }

    @Test
    void healthAndMetadataEndpoints() throws Exception {
        assertTrue(server.url.startsWith("http://127.0.0.1:"), server.url);
        assertEquals(200, get(server.url + "/v2/health/live", null).statusCode()); // health needs no token
        assertEquals(200, get(server.url + "/v2/health/ready", null).statusCode());
        JsonNode meta = json(get(server.url + "/v2", TOKEN));
        assertEquals("lora", meta.get("name").asText());
        assertTrue(meta.get("extensions").toString().contains("binary_tensor_data"));
        for (String m : new String[] {"/v2/models/tiny", "/v2/models/tiny/versions/1"}) {
            HttpResponse<byte[]> r = get(server.url + m, TOKEN);
            assertEquals(200, r.statusCode());
            JsonNode model = json(r);
            assertEquals("tiny", model.get("name").asText());
            assertEquals("[\"1\"]", model.get("versions").toString());
            assertEquals("onnxruntime_onnx", model.get("platform").asText());
            assertEquals("image", model.get("inputs").get(0).get("name").asText());
            assertEquals("[-1,3,-1,-1]", model.get("inputs").get(0).get("shape").toString());
            assertEquals("image_bytes", model.get("inputs").get(1).get("name").asText());
            assertEquals("BYTES", model.get("inputs").get(1).get("datatype").asText());
            assertEquals("depth", model.get("outputs").get(0).get("name").asText());
            JsonNode p = model.get("parameters");
            assertEquals("relative_disparity", p.get("depth_unit").asText());
            assertEquals(Checksums.sha256(ServeFixture.WEIGHTS), p.get("base_sha256").asText());
            assertTrue(p.get("size_rule").asText().contains("multiples of 14"), p.toString());
            assertTrue(p.has("adapter_config"), p.toString());
            assertEquals(200, get(server.url + m + "/ready", TOKEN).statusCode());
        }
        assertEquals(404, get(server.url + "/v2/models/other", TOKEN).statusCode());
        assertEquals(404, get(server.url + "/v2/models/tiny/versions/2", TOKEN).statusCode());
        assertEquals(404, get(server.url + "/v3", TOKEN).statusCode());
        String metrics = new String(get(server.url + "/metrics", TOKEN).body(), StandardCharsets.UTF_8);
        for (String name : new String[] {"lora_serve_requests_total{code=\"200\"}", "lora_serve_infer_latency_seconds_bucket",
            "lora_serve_batch_size_bucket", "lora_serve_queue_depth "}) {
            assertTrue(metrics.contains(name), name + " in\n" + metrics);
        }
    }

    @Test
    void imageBytesAsJsonAndBinaryGivePredictsDepth() throws Exception {
        byte[] png = Files.readAllBytes(ServeFixture.IMAGE);
        String b64 = Base64.getEncoder().encodeToString(png);
        HttpResponse<byte[]> r = post(infer, TOKEN, utf8("{\"id\":\"r1\",\"inputs\":[{\"name\":\"image_bytes\","
                + "\"shape\":[1],\"datatype\":\"BYTES\",\"data\":[\"" + b64 + "\"]}]}"), 0);
        float[] d = depth(r);
        JsonNode out = json(r).get("outputs").get(0);
        assertEquals("r1", json(r).get("id").asText());
        assertEquals("[1,139,210]", out.get("shape").toString());
        assertEquals("FP32", out.get("datatype").asText());
        assertTrue(maxAbsDiff(d, predictedImage) <= 1e-6, "max |serve - predict| " + maxAbsDiff(d, predictedImage));

        // binary: two images in one request, output as binary data
        byte[] header = utf8("{\"inputs\":[{\"name\":\"image_bytes\",\"shape\":[2],\"datatype\":\"BYTES\","
                + "\"parameters\":{\"binary_data_size\":" + 2 * (4 + png.length) + "}}],"
                + "\"outputs\":[{\"name\":\"depth\",\"parameters\":{\"binary_data\":true}}]}");
        ByteBuffer b = ByteBuffer.allocate(2 * (4 + png.length)).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(png.length).put(png).putInt(png.length).put(png);
        r = post(infer, TOKEN, concat(header, b.array()), header.length);
        float[] two = depth(r);
        assertEquals("application/octet-stream", r.headers().firstValue("Content-Type").orElse(""));
        int plane = predictedImage.length;
        assertTrue(maxAbsDiff(Arrays.copyOfRange(two, 0, plane), predictedImage) <= 1e-6);
        assertTrue(maxAbsDiff(Arrays.copyOfRange(two, plane, 2 * plane), predictedImage) <= 1e-6);
    }

    @Test
    void preprocessedTensorsAsJsonAndBinaryGivePredictsDepth() throws Exception {
        Mat m = Imgcodecs.imread(square.toString());
        float[] x = Preprocessing.official(SizeRule.lowerBound(70)).fromBgr8(m).chw();
        assertEquals(3 * 70 * 70, x.length);
        StringBuilder data = new StringBuilder();
        for (float v : x) {
            data.append(data.length() == 0 ? "" : ",").append(v);
        }
        HttpResponse<byte[]> r = post(infer, TOKEN, utf8("{\"inputs\":[{\"name\":\"image\",\"shape\":[1,3,70,70],"
                + "\"datatype\":\"FP32\",\"data\":[" + data + "]}]}"), 0);
        float[] d = depth(r);
        assertEquals("[1,70,70]", json(r).get("outputs").get(0).get("shape").toString());
        assertTrue(maxAbsDiff(d, predictedSquare) <= 1e-6, "max |serve - predict| " + maxAbsDiff(d, predictedSquare));

        // binary in, binary out (request-level binary_data_output), a batch of two
        float[] two = new float[2 * x.length];
        System.arraycopy(x, 0, two, 0, x.length);
        System.arraycopy(x, 0, two, x.length, x.length);
        byte[] header = utf8("{\"parameters\":{\"binary_data_output\":true},\"inputs\":[{\"name\":\"image\","
                + "\"shape\":[2,3,70,70],\"datatype\":\"FP32\",\"parameters\":{\"binary_data_size\":" + two.length * 4
                + "}}]}");
        r = post(infer, TOKEN, concat(header, littleEndian(two)), header.length);
        float[] d2 = depth(r);
        assertTrue(maxAbsDiff(Arrays.copyOfRange(d2, 0, d.length), predictedSquare) <= 1e-6);
        assertTrue(maxAbsDiff(Arrays.copyOfRange(d2, d.length, 2 * d.length), predictedSquare) <= 1e-6);
        // the versioned URL answers the same
        r = post(server.url + "/v2/models/tiny/versions/1/infer", TOKEN, concat(header, littleEndian(two)), header.length);
        assertEquals(200, r.statusCode());
    }

    @Test
    void eachBadRequestIsA4xxWithOneLineAndTheServerGoesOn() throws Exception {
        String image = "{\"inputs\":[{\"name\":\"image\",\"shape\":[1,3,14,14],\"datatype\":\"FP32\",\"data\":[%s]}]}";
        String ones = String.join(",", Collections.nCopies(3 * 14 * 14, "0.5"));
        String[][] cases = {
            {"{\"inputs\":[{\"name\":\"image\",", "malformed JSON"},
            {"[1,2]", "the request: expected an object"},
            {image.formatted(ones).replace("FP32", "INT64"), "datatype INT64, expected FP32"},
            {image.formatted(ones).replace("[1,3,14,14]", "[1,4,14,14]"), "expected [N, 3, H, W]"},
            {image.formatted(ones).replace("[1,3,14,14]", "[1,3,14,15]"), "values in 'data'"},
            {image.formatted("1,2,3"), "3 values in 'data'"},
            {image.formatted(ones.replaceFirst("0.5", "NaN")), "value 0 is NaN"},
            {image.formatted(ones).replace("[1,3,14,14]", "[1,3,7,28]"), "multiples of the patch size 14"},
            {image.formatted(ones).replace("[1,3,14,14]", "[9,3,14,14]"), "batch 9"},
            {image.formatted(ones).replace("\"image\"", "\"pixels\""), "unknown input 'pixels'"},
            {"{\"inputs\":[{\"name\":\"image_bytes\",\"shape\":[1],\"datatype\":\"BYTES\",\"data\":[\""
                + Base64.getEncoder().encodeToString(utf8("not an image at all")) + "\"]}]}", "cannot decode the image"},
            {"{\"inputs\":[{\"name\":\"image_bytes\",\"shape\":[1],\"datatype\":\"BYTES\",\"data\":[\"%%%\"]}]}",
                "not base64"},
            {"{\"inputs\":[]}", "expected one input"},
            {"{\"inputs\":[{\"name\":\"image\",\"name\":\"x\"}]}", "malformed JSON: Duplicate field"},
        };
        for (String[] c : cases) {
            HttpResponse<byte[]> r = post(infer, TOKEN, utf8(c[0]), 0);
            assertEquals(400, r.statusCode(), c[1]);
            String e = ServeFixture.error(r);
            assertTrue(e.contains(c[1]), c[1] + " in: " + e);
        }
        // binary data: a size that does not add up, a NaN, a BYTES length past the end, a header length past the body
        byte[] h = utf8("{\"inputs\":[{\"name\":\"image\",\"shape\":[1,3,14,14],\"datatype\":\"FP32\","
                + "\"parameters\":{\"binary_data_size\":2352}}]}");
        float[] x = new float[3 * 14 * 14];
        assertEquals(400, post(infer, TOKEN, concat(h, new byte[100]), h.length).statusCode());
        x[5] = Float.NaN;
        HttpResponse<byte[]> r = post(infer, TOKEN, concat(h, littleEndian(x)), h.length);
        assertTrue(ServeFixture.error(r).contains("value 5 is NaN"));
        byte[] hb = utf8("{\"inputs\":[{\"name\":\"image_bytes\",\"shape\":[1],\"datatype\":\"BYTES\","
                + "\"parameters\":{\"binary_data_size\":8}}]}");
        r = post(infer, TOKEN, concat(hb, new byte[] {(byte) 0xff, (byte) 0xff, 0, 0, 1, 2, 3, 4}), hb.length);
        assertTrue(ServeFixture.error(r).contains("claims 65535 bytes"), new String(r.body()));
        assertEquals(400, post(infer, TOKEN, concat(hb, new byte[8]), 100_000).statusCode());
        // over the body limit (--max-body-mb 2): 413 (the server drops a declared body of up to 4x the limit before
        // answering, so that a client still sending gets the answer rather than a reset connection)
        r = post(infer, TOKEN, new byte[3 * 1024 * 1024], 0);
        assertEquals(413, r.statusCode());
        assertTrue(ServeFixture.error(r).contains("over the limit"), new String(r.body()));
        // token: missing, wrong
        r = post(infer, null, utf8(image.formatted(ones)), 0);
        assertEquals(401, r.statusCode());
        assertTrue(ServeFixture.error(r).contains("missing bearer token"));
        assertEquals("Bearer", r.headers().firstValue("WWW-Authenticate").orElse(""));
        assertEquals(401, post(infer, "wrong", utf8(image.formatted(ones)), 0).statusCode());
        assertEquals(401, get(server.url + "/v2/models/tiny", "s3cret-tokeN").statusCode());
        // one connection, tokens differing in case only: each checked as sent (Jetty's header cache is case-sensitive)
        r = get(infer, TOKEN);
        assertEquals(405, r.statusCode(), new String(r.body(), StandardCharsets.UTF_8));
        assertEquals(401, get(server.url + "/v2/models/tiny", "s3cret-tokeN").statusCode());
        assertEquals(200, get(server.url + "/v2/models/tiny", TOKEN).statusCode());
        // and it still serves
        assertEquals(200, post(infer, TOKEN, utf8(image.formatted(ones)), 0).statusCode());
        assertEquals(200, get(server.url + "/v2/health/ready", null).statusCode());
    }
}
