package com.loratool.serve;


import static com.loratool.serve.ServeFixture.depth;
import static com.loratool.serve.ServeFixture.littleEndian;
import static com.loratool.serve.ServeFixture.post;
import static com.loratool.serve.ServeFixture.utf8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.loratool.io.Npy;
import java.io.StringWriter;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * lora serve on Depth Anything 3 (the tiny official fixtures, at process_res 154, where the
 * fixture's 154 x 98 image is its own processed size): da3mono from weights and from its ONNX
 * export serves what lora predict writes; its 'image' tensor (the fixture's official input tensor)
 * gives the official depth; da3metric with --focal or --intrinsics serves metres equal to predict's
 * millimetres / 1000 and refuses tensors; the focal options are refused in one line where they do
 * not apply.
 */
class ServeDa3Test {
    static final Path FIXTURES = ServeFixture.FIX.getParent();
    static final Path MONO = FIXTURES.resolve("da3-tiny-mono");
    static final Path METRIC = FIXTURES.resolve("da3-tiny-metric");
    static final String INFER = "/v2/models/depth/infer";

    @TempDir
    Path dir;

    /** lora predict ARGS --input IMAGE --output dir/NAME; returns image.npy. */
    private float[] predict(String name, Path image, String... args) {
        List<String> a = new ArrayList<>(List.of("predict", "--input", image.toString(), "--output",
                dir.resolve(name).toString(), "--threads", "1")); // as the servers: one summation order
        a.addAll(Arrays.asList(args));
        StringWriter err = new StringWriter();
        assertEquals(0, ServeFixture.lora(new StringWriter(), err, a.toArray(String[]::new)), err.toString());
        return Npy.read(dir.resolve(name).resolve("image.npy")).data();
    }

    static byte[] imageBytes(Path image, int copies) throws Exception {
        String b64 = Base64.getEncoder().encodeToString(Files.readAllBytes(image));
        List<String> data = new ArrayList<>();
        for (int i = 0; i < copies; i++) {
            data.add("\"" + b64 + "\"");
        }
        return utf8("{\"inputs\":[{\"name\":\"image_bytes\",\"shape\":[" + copies + "],\"datatype\":\"BYTES\",\"data\":["
                + String.join(",", data) + "]}]}");
    }

    /** An N x 3 x H x W tensor, binary in and out; returns the body and its JSON header's length. */
    static Object[] tensor(float[] x, int n, int h, int w) {
        byte[] head = utf8("{\"inputs\":[{\"name\":\"image\",\"shape\":[" + n + ",3," + h + "," + w + "],\"datatype\":"
                + "\"FP32\",\"parameters\":{\"binary_data_size\":" + 4 * x.length + "}}],\"outputs\":[{\"name\":"
                + "\"depth\",\"parameters\":{\"binary_data\":true}}]}");
        return new Object[] {ServeFixture.concat(head, littleEndian(x)), head.length};
    }

    static HttpResponse<byte[]> postTensor(String url, float[] x, int n, int h, int w) throws Exception {
        Object[] t = tensor(x, n, h, w);
        return post(url + INFER, null, (byte[]) t[0], (int) t[1]);
    }

    /** Each value within 1e-6 of the expected one, relatively. */
    static void sameRelative(float[] expected, float[] got, double scale, String what) {
        assertEquals(expected.length, got.length, what + ": element counts");
        for (int i = 0; i < expected.length; i++) {
            double g = got[i] * scale;
            assertEquals(expected[i], g, 1e-6 * Math.abs(expected[i]) + 1e-12, what + ": pixel " + i);
        }
    }

    static double relativeL2(float[] expected, float[] got) {
        assertEquals(expected.length, got.length);
        double num = 0;
        double den = 0;
        for (int i = 0; i < expected.length; i++) {
            num += (got[i] - (double) expected[i]) * (got[i] - (double) expected[i]);
            den += (double) expected[i] * expected[i];
        }
        return Math.sqrt(num / den);
    }

    static JsonNode metadata(ServeFixture.Server s) throws Exception {
        return ServeFixture.json(ServeFixture.get(s.url + "/v2/models/depth", null));
    }

    /** da3mono from its weights folder and from an ONNX export of it: what lora predict writes. */
    @Test
    void da3MonoServesPredictsDepthFromWeightsAndOnnx() throws Exception {
        Path image = MONO.resolve("image.png");
        float[] predicted = predict("p", image, "--weights", MONO.toString(), "--process-res", "154");
        float[] input = Npy.read(MONO.resolve("input_tensor.npy")).data(); // 1 x 1 x 3 x 98 x 154, official
        float[] official = Npy.read(MONO.resolve("expected_depth.npy")).data(); // after the official sky fill
        try (ServeFixture.Server s = new ServeFixture.Server("--weights", MONO.toString(), "--process-res", "154",
                "--threads", "1")) {
            assertTrue(s.url != null, s.err.toString());
            JsonNode meta = metadata(s);
            JsonNode p = meta.get("parameters");
            assertEquals("relative_depth", p.get("depth_unit").asText(), meta.toString());
            assertEquals("154", p.get("process_res").asText(), meta.toString());
            assertTrue(p.get("image_input").asText().contains("sky filled over each image"), meta.toString());
            assertEquals(2, meta.get("inputs").size(), meta.toString()); // image and image_bytes

            // two images in one request: each as predict writes it
            float[] d = depth(post(s.url + INFER, null, imageBytes(image, 2), 0));
            sameRelative(predicted, Arrays.copyOfRange(d, 0, predicted.length), 1, "image_bytes[0]");
            sameRelative(predicted, Arrays.copyOfRange(d, predicted.length, d.length), 1, "image_bytes[1]");

            // the official input tensor: the official depth (parity), and predict's (the image is its processed size)
            float[] t = depth(postTensor(s.url, input, 1, 98, 154));
            assertTrue(relativeL2(official, t) <= 1e-4, "relative L2 to the official depth " + relativeL2(official, t));
            sameRelative(predicted, t, 1, "image tensor");
            // twice in one batch: the sky fill is each image's own, not the batch's
            float[] two = new float[2 * input.length];
            System.arraycopy(input, 0, two, 0, input.length);
            System.arraycopy(input, 0, two, input.length, input.length);
            float[] t2 = depth(postTensor(s.url, two, 2, 98, 154));
            sameRelative(t, Arrays.copyOfRange(t2, t.length, t2.length), 1, "image tensor [1] of 2");
            // a tensor whose sides are not multiples of 14
            HttpResponse<byte[]> bad = postTensor(s.url, new float[3 * 97 * 154], 1, 97, 154);
            assertEquals(400, bad.statusCode());
            assertTrue(ServeFixture.error(bad).contains("multiples of the patch size 14"), ServeFixture.error(bad));
            assertEquals(0, s.stop(), s.err.toString());
        }

        Path onnx = dir.resolve("mono.onnx");
        StringWriter err = new StringWriter();
        assertEquals(0, ServeFixture.lora(new StringWriter(), err, "export", "--weights", MONO.toString(), "--format",
                "onnx", "--input-size", "98x154", "--dynamic", "--output", onnx.toString()), err.toString());
        float[] predictedOnnx = predict("po", image, "--onnx", onnx.toString(), "--process-res", "154");
        try (ServeFixture.Server s = new ServeFixture.Server("--onnx", onnx.toString(), "--process-res", "154",
                "--threads", "1")) {
            assertTrue(s.url != null, s.err.toString());
            JsonNode meta = metadata(s);
            assertEquals("onnxruntime_onnx", meta.get("platform").asText(), meta.toString());
            assertEquals("relative_depth", meta.get("parameters").get("depth_unit").asText(), meta.toString());
            float[] d = depth(post(s.url + INFER, null, imageBytes(image, 1), 0));
            sameRelative(predictedOnnx, d, 1, "onnx image_bytes");
            float[] t = depth(postTensor(s.url, input, 1, 98, 154));
            sameRelative(predictedOnnx, t, 1, "onnx image tensor");
            assertTrue(relativeL2(official, t) <= 1e-4, "relative L2 to the official depth " + relativeL2(official, t));
            assertEquals(0, s.stop(), s.err.toString());
        }
    }

    /** da3metric: metres with --focal (and with --intrinsics K.json), x 1000 = predict's mm; tensors refused. */
    @Test
    void da3MetricServesMetresWithTheFocal() throws Exception {
        Path image = METRIC.resolve("image.png");
        float[] mm = predict("p", image, "--weights", METRIC.toString(), "--process-res", "154", "--focal", "140");
        float[] officialMetres = Npy.read(METRIC.resolve("expected_metric_depth.npy")).data();
        try (ServeFixture.Server s = new ServeFixture.Server("--weights", METRIC.toString(), "--process-res", "154",
                "--focal", "140", "--threads", "1")) {
            assertTrue(s.url != null, s.err.toString());
            JsonNode meta = metadata(s);
            assertEquals("metres", meta.get("parameters").get("depth_unit").asText(), meta.toString());
            assertTrue(meta.get("parameters").get("focal").asText().startsWith("140.0 px of the original image"),
                    meta.toString());
            assertEquals(1, meta.get("inputs").size(), meta.toString()); // image_bytes only
            assertEquals("image_bytes", meta.get("inputs").get(0).get("name").asText());
            float[] metres = depth(post(s.url + INFER, null, imageBytes(image, 1), 0));
            sameRelative(mm, metres, 1000.0, "metres x 1000 vs predict's mm");
            assertTrue(relativeL2(officialMetres, metres) <= 1e-4, "relative L2 to the official metres "
                    + relativeL2(officialMetres, metres));
            HttpResponse<byte[]> r = postTensor(s.url, Npy.read(METRIC.resolve("input_tensor.npy")).data(), 1, 98, 154);
            assertEquals(400, r.statusCode());
            assertTrue(ServeFixture.error(r).contains("send the encoded image as 'image_bytes'"), ServeFixture.error(r));
            assertEquals(0, s.stop(), s.err.toString());
        }
        // the same camera as a lora data intrinsics JSON, on a grid twice the image's size: scaled to the image
        Path k = Files.writeString(dir.resolve("K.json"),
                "{\"fx\": 280, \"fy\": 280, \"cx\": 154.5, \"cy\": 98.5, \"width\": 308, \"height\": 196}");
        try (ServeFixture.Server s = new ServeFixture.Server("--weights", METRIC.toString(), "--process-res", "154",
                "--intrinsics", k.toString(), "--threads", "1")) {
            assertTrue(s.url != null, s.err.toString());
            float[] metres = depth(post(s.url + INFER, null, imageBytes(image, 1), 0));
            sameRelative(mm, metres, 1000.0, "--intrinsics: metres x 1000 vs predict's mm (--focal 140)");
            assertEquals(0, s.stop(), s.err.toString());
        }
        // intrinsics that are no camera's on the request's image (principal point far outside it): that request's 400
        try (ServeFixture.Server s = new ServeFixture.Server("--weights", METRIC.toString(), "--process-res", "154",
                "--intrinsics", "140,140,5000,49", "--threads", "1")) {
            assertTrue(s.url != null, s.err.toString());
            HttpResponse<byte[]> r = post(s.url + INFER, null, imageBytes(image, 1), 0);
            assertEquals(400, r.statusCode());
            assertTrue(ServeFixture.error(r).startsWith("input 'image_bytes' element 0: --intrinsics (154x98): "),
                    ServeFixture.error(r));
            assertEquals(200, ServeFixture.get(s.url + "/v2/health/ready", null).statusCode());
            assertEquals(0, s.stop(), s.err.toString());
        }
    }

    /** One line, exit 2, nothing served. */
    private void refused(String expected, String... args) {
        List<String> a = new ArrayList<>(List.of("serve", "--port", "0"));
        a.addAll(Arrays.asList(args));
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        assertEquals(2, ServeFixture.lora(out, err, a.toArray(String[]::new)), err.toString());
        List<String> lines = err.toString().lines().filter(l -> !l.isBlank()).toList();
        assertEquals(1, lines.size(), err.toString());
        assertTrue(lines.get(0).startsWith("error: ") && lines.get(0).contains(expected), lines.get(0));
        assertFalse(out.toString().contains("serving"), out.toString());
    }

    @Test
    void focalOptionsAreRefusedWhereTheyDoNotApply() throws Exception {
        String metric = METRIC.toString();
        refused("da3metric) needs the focal length for metres: give --focal PX", "--weights", metric);
        for (String f : new String[] {"0", "-140", "NaN", "Infinity"}) {
            refused("must be a positive finite number of pixels", "--weights", metric, "--focal", f);
        }
        String[] v2 = {"--weights", ServeFixture.WEIGHTS.toString(), "--model-config", ServeFixture.YAML.toString()};
        refused("are for Depth Anything 3 models; this is a Depth Anything V2 model", concat(v2, "--focal", "100"));
        refused("are for Depth Anything 3 models", concat(v2, "--process-res", "154"));
        refused("--intrinsics is the focal of a Depth Anything 3 metric model", concat(v2, "--intrinsics",
                "100,100,35,35"));
        refused("--focal is for Depth Anything 3 metric models (da3metric); da3mono", "--weights", MONO.toString(),
                "--focal", "100");
        refused("--focal and --intrinsics: give one", "--weights", metric, "--focal", "100", "--intrinsics",
                "100,100,77,49");
        refused("--input-size is for Depth Anything V2", "--weights", metric, "--focal", "100", "--input-size", "98");
        Path nan = Files.writeString(dir.resolve("K.json"), "{\"fx\": NaN, \"fy\": 1, \"cx\": 1, \"cy\": 1}");
        refused("K.json", "--weights", metric, "--intrinsics", nan.toString());
    }

    private static String[] concat(String[] a, String... b) { // options
        String[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
