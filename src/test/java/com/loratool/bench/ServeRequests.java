package com.loratool.bench;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.loratool.io.Json;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Random;

/**
 * The bodies the load test sends to {@code POST /v2/models/<name>/infer}, in the Open Inference
 * Protocol's REST form (KServe v2) with the binary tensor data extension: a JSON header of
 * {@code Inference-Header-Content-Length} bytes, then each input's {@code binary_data_size} bytes
 * (FP32 little-endian; BYTES elements each a 4-byte little-endian length and the bytes). The valid
 * ones ask for {@code depth} as binary data; the garbage ones are each wrong in one way a client
 * can be wrong, and a server must answer each with a 4xx.
 */
final class ServeRequests {
    private ServeRequests() {}

    /** How a valid request carries its image. */
    enum Input {
        /** {@code image_bytes}: the encoded file, BYTES [1], as binary data (the server preprocesses). */
        png,
        /** {@code image_bytes}: the encoded file as a base64 string in the JSON. */
        png_json,
        /** {@code image}: the preprocessed FP32 1 x 3 x H x W tensor as binary data. */
        binary,
        /** {@code image}: the same tensor as JSON numbers. */
        json
    }

    /** The garbage kinds; each must get a 4xx. */
    enum Garbage { malformed_json, wrong_datatype, wrong_shape, count_mismatch, nan_data, not_an_image, unknown_model,
        binary_size_mismatch }

    /**
     * One request: the body, its {@code Inference-Header-Content-Length} (-1: none, all JSON), the
     * model name it goes to, and what it is ({@code valid} or a garbage kind).
     */
    record Body(byte[] bytes, int headerLength, String model, String kind) {
        String contentType() {
            return headerLength < 0 ? "application/json" : "application/octet-stream";
        }
    }

    /** A valid request for one image: {@code png} the file's bytes, {@code chw} its preprocessed tensor (h x w). */
    static Body valid(Input input, String model, byte[] png, float[] chw, int h, int w) {
        return switch (input) {
            case png -> bytesBinary(model, png, "valid");
            case png_json -> {
                ObjectNode root = request();
                ObjectNode in = input(root, "image_bytes", "BYTES", 1);
                in.putArray("data").add(Base64.getEncoder().encodeToString(png));
                yield new Body(write(root), -1, model, "valid");
            }
            case binary -> tensorBinary(model, chw, h, w, "valid");
            case json -> tensorJson(model, "FP32", new long[] {1, 3, h, w}, chw, "valid");
        };
    }

    /** A garbage request of {@code kind}, made from a valid image ({@code png}, {@code chw} at h x w). */
    static Body garbage(Garbage kind, String model, byte[] png, float[] chw, int h, int w) {
        String k = kind.name();
        return switch (kind) {
            case malformed_json -> new Body("{\"inputs\":[{\"name\":\"image\",\"datatype\":\"FP32\",\"shape\":[1,3,"
                    .getBytes(StandardCharsets.UTF_8), -1, model, k);
            case wrong_datatype -> tensorJson(model, "INT32", new long[] {1, 3, 2, 2}, new float[12], k);
            case wrong_shape -> tensorJson(model, "FP32", new long[] {1, 3, 4}, new float[12], k);
            case count_mismatch -> tensorJson(model, "FP32", new long[] {1, 3, h, w}, new float[10], k);
            case nan_data -> {
                float[] x = chw.clone();
                x[x.length / 2] = Float.NaN;
                yield tensorBinary(model, x, h, w, k);
            }
            case not_an_image -> {
                byte[] junk = new byte[4096];
                new Random(7).nextBytes(junk);
                yield bytesBinary(model, junk, k);
            }
            case unknown_model -> {
                Body b = bytesBinary(model, png, k);
                yield new Body(b.bytes(), b.headerLength(), "no_such_model_" + model, k);
            }
            case binary_size_mismatch -> {
                Body b = tensorBinary(model, chw, h, w, k);
                // one float short of what binary_data_size claims
                byte[] cut = new byte[b.bytes().length - 4];
                System.arraycopy(b.bytes(), 0, cut, 0, cut.length);
                yield new Body(cut, b.headerLength(), model, k);
            }
        };
    }

    private static ObjectNode request() {
        ObjectNode root = Json.JSON.createObjectNode();
        root.putArray("inputs");
        ArrayNode outs = root.putArray("outputs");
        outs.addObject().put("name", "depth").putObject("parameters").put("binary_data", true);
        return root;
    }

    private static ObjectNode input(ObjectNode root, String name, String datatype, long... shape) {
        ObjectNode in = ((ArrayNode) root.get("inputs")).addObject();
        in.put("name", name).put("datatype", datatype);
        ArrayNode s = in.putArray("shape");
        for (long d : shape) {
            s.add(d);
        }
        return in;
    }

    /** {@code image_bytes} BYTES [1] as binary data: a 4-byte little-endian length, then the bytes. */
    static Body bytesBinary(String model, byte[] file, String kind) {
        ObjectNode root = request();
        input(root, "image_bytes", "BYTES", 1).putObject("parameters").put("binary_data_size", 4 + file.length);
        ByteBuffer data = ByteBuffer.allocate(4 + file.length).order(ByteOrder.LITTLE_ENDIAN);
        data.putInt(file.length).put(file);
        return withBinary(root, data.array(), model, kind);
    }

    /** {@code image} FP32 1 x 3 x h x w as binary data, little-endian. */
    static Body tensorBinary(String model, float[] chw, int h, int w, String kind) {
        ObjectNode root = request();
        input(root, "image", "FP32", 1, 3, h, w).putObject("parameters").put("binary_data_size", 4L * chw.length);
        ByteBuffer data = ByteBuffer.allocate(4 * chw.length).order(ByteOrder.LITTLE_ENDIAN);
        data.asFloatBuffer().put(chw);
        return withBinary(root, data.array(), model, kind);
    }

    /** An FP32-looking tensor as JSON numbers (streamed: a 518 x 518 image is 800 k numbers). */
    static Body tensorJson(String model, String datatype, long[] shape, float[] data, String kind) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(data.length * 12 + 256);
        try (JsonGenerator g = Json.JSON.getFactory().createGenerator(out)) {
            g.writeStartObject();
            g.writeArrayFieldStart("inputs");
            g.writeStartObject();
            g.writeStringField("name", "image");
            g.writeStringField("datatype", datatype);
            g.writeArrayFieldStart("shape");
            for (long d : shape) {
                g.writeNumber(d);
            }
            g.writeEndArray();
            g.writeArrayFieldStart("data");
            for (float v : data) {
                g.writeNumber(v);
            }
            g.writeEndArray();
            g.writeEndObject();
            g.writeEndArray();
            g.writeEndObject();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return new Body(out.toByteArray(), -1, model, kind);
    }

    private static Body withBinary(ObjectNode root, byte[] data, String model, String kind) {
        byte[] header = write(root);
        byte[] body = new byte[header.length + data.length];
        System.arraycopy(header, 0, body, 0, header.length);
        System.arraycopy(data, 0, body, header.length, data.length);
        return new Body(body, header.length, model, kind);
    }

    private static byte[] write(JsonNode n) {
        try {
            return Json.JSON.writeValueAsBytes(n);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Checks a 200 answer: {@code depth}, FP32, shape [1, H, W] and as many values as the shape
     * says (binary: {@code binary_data_size} bytes after the header, which must be all the rest).
     * Returns null when it is right, else what is wrong.
     */
    static String checkAnswer(byte[] body, int headerLength) {
        try {
            int jsonLength = headerLength < 0 ? body.length : headerLength;
            if (jsonLength > body.length) {
                return "Inference-Header-Content-Length " + headerLength + " > body " + body.length;
            }
            JsonNode root = Json.JSON.readTree(new String(body, 0, jsonLength, StandardCharsets.UTF_8));
            JsonNode outs = root.path("outputs");
            if (!outs.isArray() || outs.isEmpty()) {
                return "no outputs";
            }
            JsonNode d = null;
            for (JsonNode o : outs) {
                if ("depth".equals(o.path("name").asText())) {
                    d = o;
                }
            }
            if (d == null) {
                return "no output 'depth'";
            }
            if (!"FP32".equals(d.path("datatype").asText())) {
                return "depth datatype " + d.path("datatype").asText();
            }
            List<Long> shape = new ArrayList<>();
            d.path("shape").forEach(x -> shape.add(x.asLong()));
            if (shape.size() != 3 || shape.get(0) != 1 || shape.get(1) < 1 || shape.get(2) < 1) {
                return "depth shape " + shape;
            }
            long n = shape.get(1) * shape.get(2);
            JsonNode size = d.path("parameters").path("binary_data_size");
            if (!size.isMissingNode()) {
                long rest = body.length - (long) jsonLength;
                return size.asLong() == 4 * n && rest == 4 * n ? null
                        : "binary_data_size " + size.asLong() + ", " + rest + " bytes, shape " + shape;
            }
            return d.path("data").size() == n ? null : "depth has " + d.path("data").size() + " values, shape " + shape;
        } catch (IOException e) {
            return "answer is not JSON";
        }
    }
}
