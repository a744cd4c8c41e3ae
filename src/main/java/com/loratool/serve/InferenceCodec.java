package com.loratool.serve;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.ObjectReader;
import com.loratool.io.Json;
import com.loratool.io.Printable;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;

/**
 * The infer call's wire format (Open Inference Protocol REST, with the binary tensor data
 * extension): request body to a checked {@link InferenceRequest}, depth to a response body.
 *
 * <p>The JSON is read with Jackson's streaming parser (from {@link Json#JSON}'s factory), so a
 * tensor sent as JSON numbers becomes one {@code float[]}, never a tree of number nodes. Every
 * claim is checked against the data present: the element count against the shape, each
 * {@code binary_data_size} against the bytes after the header (they must add up exactly), each
 * BYTES element's 4-byte length against what is left; values must be finite.
 */
final class InferenceCodec {
    /** Strict: a key given twice is an error; NaN/Infinity are read as numbers so they can be refused by name. */
    private static final ObjectReader READER = Json.JSON.reader()
            .with(JsonParser.Feature.STRICT_DUPLICATE_DETECTION).with(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS);

    private final int maxBatch;

    InferenceCodec(int maxBatch) {
        this.maxBatch = maxBatch;
    }

    /** What one input object of the request said, before it is checked. */
    private static final class RawInput {
        String name;
        String datatype;
        long[] shape;
        long binarySize = -1;
        float[] numbers;
        int count;
        List<String> strings;
    }

    /**
     * {@code body}: the whole request; {@code headerLength}: the {@code Inference-Header-Content-Length}
     * (-1 when absent: all of it is JSON).
     */
    InferenceRequest parse(byte[] body, int headerLength) {
        if (headerLength > body.length || headerLength == 0 || headerLength < -1) {
            throw HttpError.badRequest("Inference-Header-Content-Length " + headerLength + " does not fit the body of "
                    + body.length + " bytes");
        }
        int jsonLength = headerLength < 0 ? body.length : headerLength;
        String id = null;
        boolean binaryAll = false;
        Boolean binaryDepth = null;
        List<RawInput> inputs = null;
        try (JsonParser p = READER.createParser(body, 0, jsonLength)) {
            expect(p.nextToken(), JsonToken.START_OBJECT, "the request");
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String key = p.currentName();
                JsonToken t = p.nextToken();
                switch (key) {
                    case "id" -> id = t == JsonToken.VALUE_NULL ? null : text(p, t, "id");
                    case "parameters" -> binaryAll = parameter(p, t, "parameters", "binary_data_output",
                            v -> bool(v, "parameters.binary_data_output"), binaryAll);
                    case "inputs" -> inputs = inputs(p, t);
                    case "outputs" -> binaryDepth = outputs(p, t);
                    default -> p.skipChildren();
                }
            }
            if (p.nextToken() != null) {
                throw HttpError.badRequest("malformed JSON: more after the request object");
            }
        } catch (JsonProcessingException e) {
            throw HttpError.badRequest("malformed JSON: " + Printable.of(e.getOriginalMessage()));
        } catch (IOException e) {
            throw HttpError.badRequest("cannot read the request: " + Printable.of(e.getMessage()));
        }
        if (inputs == null || inputs.size() != 1) {
            throw HttpError.badRequest("expected one input, '" + InferenceRequest.IMAGE + "' (FP32 N x 3 x H x W) or '"
                    + InferenceRequest.IMAGE_BYTES + "' (BYTES [N], encoded PNG/JPEG); got "
                    + (inputs == null ? "no inputs" : inputs.size() + " inputs"));
        }
        RawInput in = inputs.get(0);
        ByteBuffer binary = ByteBuffer.wrap(body, jsonLength, body.length - jsonLength).slice().order(ByteOrder.LITTLE_ENDIAN);
        if (in.binarySize < 0 && binary.remaining() > 0) {
            throw HttpError.badRequest(binary.remaining() + " bytes after the JSON header, but no input has "
                    + "parameters.binary_data_size");
        }
        if (in.binarySize >= 0 && in.binarySize != binary.remaining()) {
            throw HttpError.badRequest("input '" + in.name + "': binary_data_size " + in.binarySize + ", but "
                    + binary.remaining() + " bytes follow the JSON header");
        }
        boolean binaryOut = binaryDepth != null ? binaryDepth : binaryAll;
        return switch (in.name) {
            case InferenceRequest.IMAGE -> tensor(id, in, binary, binaryOut);
            case InferenceRequest.IMAGE_BYTES -> files(id, in, binary, binaryOut);
            default -> throw HttpError.badRequest("unknown input '" + in.name + "': this model takes '"
                    + InferenceRequest.IMAGE + "' (FP32 N x 3 x H x W) or '" + InferenceRequest.IMAGE_BYTES
                    + "' (BYTES [N])");
        };
    }

    private InferenceRequest tensor(String id, RawInput in, ByteBuffer binary, boolean binaryOut) {
        if (!"FP32".equals(in.datatype)) {
            throw HttpError.badRequest("input 'image': datatype " + in.datatype + ", expected FP32");
        }
        long[] s = in.shape;
        if (s.length != 4 || s[1] != 3) {
            throw HttpError.badRequest("input 'image': shape " + Arrays.toString(s) + ", expected [N, 3, H, W]");
        }
        int n = batch(s[0], "image");
        if (s[2] < 1 || s[3] < 1 || s[2] * s[3] > Integer.MAX_VALUE / 3 / n) {
            throw HttpError.badRequest("input 'image': shape " + Arrays.toString(s) + ": H and W must be positive and "
                    + "the tensor smaller than 2^31 values");
        }
        int count = (int) (n * 3 * s[2] * s[3]);
        float[] x;
        if (in.binarySize >= 0) {
            if (binary.remaining() != (long) count * 4) {
                throw HttpError.badRequest("input 'image': binary_data_size " + binary.remaining() + " bytes, but shape "
                        + Arrays.toString(s) + " FP32 needs " + (long) count * 4);
            }
            x = new float[count];
            binary.asFloatBuffer().get(x);
        } else {
            if (in.strings != null || in.numbers == null) {
                throw HttpError.badRequest("input 'image': expected 'data' with " + count + " numbers (or "
                        + "parameters.binary_data_size)");
            }
            if (in.count != count) {
                throw HttpError.badRequest("input 'image': " + in.count + " values in 'data', shape "
                        + Arrays.toString(s) + " needs " + count);
            }
            x = in.count == in.numbers.length ? in.numbers : Arrays.copyOf(in.numbers, count);
        }
        for (int i = 0; i < x.length; i++) {
            if (!Float.isFinite(x[i])) {
                throw HttpError.badRequest("input 'image': value " + i + " is " + x[i] + "; the data must be finite");
            }
        }
        return new InferenceRequest(id, x, null, n, (int) s[2], (int) s[3], binaryOut);
    }

    private InferenceRequest files(String id, RawInput in, ByteBuffer binary, boolean binaryOut) {
        if (!"BYTES".equals(in.datatype)) {
            throw HttpError.badRequest("input 'image_bytes': datatype " + in.datatype + ", expected BYTES");
        }
        long[] s = in.shape;
        if (!(s.length == 1 || s.length == 2 && s[1] == 1)) {
            throw HttpError.badRequest("input 'image_bytes': shape " + Arrays.toString(s) + ", expected [N] (one "
                    + "encoded image per element)");
        }
        int n = batch(s[0], "image_bytes");
        List<byte[]> files = new ArrayList<>(n);
        if (in.binarySize >= 0) { // each element: a 4-byte little-endian length, then the bytes
            while (binary.hasRemaining()) {
                if (binary.remaining() < 4) {
                    throw HttpError.badRequest("input 'image_bytes': " + binary.remaining() + " bytes left where an "
                            + "element's 4-byte length was expected");
                }
                long len = binary.getInt() & 0xffffffffL;
                if (len > binary.remaining()) {
                    throw HttpError.badRequest("input 'image_bytes': element " + files.size() + " claims " + len
                            + " bytes, " + binary.remaining() + " are left");
                }
                if (files.size() == n) {
                    throw HttpError.badRequest("input 'image_bytes': more than the " + n + " element(s) of its shape");
                }
                byte[] f = new byte[(int) len];
                binary.get(f);
                files.add(f);
            }
        } else {
            if (in.strings == null) {
                throw HttpError.badRequest("input 'image_bytes': expected 'data' with " + n + " base64 strings (or "
                        + "parameters.binary_data_size)");
            }
            for (String b64 : in.strings) {
                try {
                    files.add(Base64.getDecoder().decode(b64));
                } catch (IllegalArgumentException e) {
                    throw HttpError.badRequest("input 'image_bytes': element " + files.size() + " is not base64 ("
                            + Printable.of(e.getMessage()) + ")");
                }
            }
        }
        if (files.size() != n) {
            throw HttpError.badRequest("input 'image_bytes': " + files.size() + " element(s), shape "
                    + Arrays.toString(s) + " needs " + n);
        }
        return new InferenceRequest(id, null, List.copyOf(files), n, 0, 0, binaryOut);
    }

    private int batch(long n, String name) {
        if (n < 1 || n > maxBatch) {
            throw HttpError.badRequest("input '" + name + "': batch " + n + ": must be 1 to " + maxBatch
                    + " (--max-batch) images per request");
        }
        return (int) n;
    }

    private static List<RawInput> inputs(JsonParser p, JsonToken t) throws IOException {
        expect(t, JsonToken.START_ARRAY, "inputs");
        List<RawInput> out = new ArrayList<>();
        while ((t = p.nextToken()) != JsonToken.END_ARRAY) {
            expect(t, JsonToken.START_OBJECT, "inputs[" + out.size() + "]");
            RawInput in = new RawInput();
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String key = p.currentName();
                JsonToken v = p.nextToken();
                switch (key) {
                    case "name" -> in.name = text(p, v, "inputs.name");
                    case "datatype" -> in.datatype = text(p, v, "inputs.datatype");
                    case "shape" -> in.shape = shape(p, v);
                    case "parameters" -> in.binarySize = parameter(p, v, "inputs.parameters", "binary_data_size", pv -> {
                        if (pv != JsonToken.VALUE_NUMBER_INT || p.getLongValue() < 0) {
                            throw HttpError.badRequest("inputs.parameters.binary_data_size: expected a non-negative "
                                    + "integer");
                        }
                        return p.getLongValue();
                    }, in.binarySize);
                    case "data" -> data(p, v, in);
                    default -> p.skipChildren();
                }
            }
            if (in.name == null || in.datatype == null || in.shape == null) {
                throw HttpError.badRequest("inputs[" + out.size() + "]: needs name, shape and datatype");
            }
            if (in.binarySize >= 0 && (in.numbers != null || in.strings != null)) {
                throw HttpError.badRequest("input '" + Printable.of(in.name) + "': both 'data' and binary_data_size");
            }
            in.name = Printable.of(in.name);
            in.datatype = Printable.of(in.datatype);
            out.add(in);
        }
        return out;
    }

    /** The requested outputs: null if none named; else whether {@code depth} goes back as binary data. */
    private static Boolean outputs(JsonParser p, JsonToken t) throws IOException {
        expect(t, JsonToken.START_ARRAY, "outputs");
        Boolean binary = null;
        while ((t = p.nextToken()) != JsonToken.END_ARRAY) {
            expect(t, JsonToken.START_OBJECT, "outputs[]");
            String name = null;
            boolean b = false;
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String key = p.currentName();
                JsonToken v = p.nextToken();
                if (key.equals("name")) {
                    name = text(p, v, "outputs.name");
                } else if (key.equals("parameters")) {
                    b = parameter(p, v, "outputs.parameters", "binary_data", pv -> bool(pv, "outputs.parameters.binary_data"),
                            b);
                } else {
                    p.skipChildren();
                }
            }
            if (!InferenceRequest.DEPTH.equals(name)) {
                throw HttpError.badRequest("unknown output '" + Printable.of(name) + "': this model has one output, '"
                        + InferenceRequest.DEPTH + "'");
            }
            binary = b;
        }
        return binary;
    }

    /** Reads the value the parser is on ({@code t}, its token). */
    private interface ValueReader<T> {
        T read(JsonToken t) throws IOException;
    }

    /**
     * A {@code parameters} object ({@code what}; the parser on its start, {@code t}): the value of
     * {@code key} as {@code read} reads it, {@code otherwise} when the key is absent; other keys skipped.
     */
    private static <T> T parameter(JsonParser p, JsonToken t, String what, String key, ValueReader<T> read, T otherwise)
            throws IOException {
        expect(t, JsonToken.START_OBJECT, what);
        T value = otherwise;
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String k = p.currentName();
            JsonToken v = p.nextToken();
            if (k.equals(key)) {
                value = read.read(v);
            } else {
                p.skipChildren();
            }
        }
        return value;
    }

    private static long[] shape(JsonParser p, JsonToken t) throws IOException {
        expect(t, JsonToken.START_ARRAY, "inputs.shape");
        long[] s = new long[8];
        int k = 0;
        while ((t = p.nextToken()) != JsonToken.END_ARRAY) {
            if (t != JsonToken.VALUE_NUMBER_INT || k == s.length) {
                throw HttpError.badRequest("inputs.shape: expected up to 8 integers");
            }
            s[k++] = p.getLongValue();
            if (s[k - 1] < 0) {
                throw HttpError.badRequest("inputs.shape: negative dimension " + s[k - 1]);
            }
        }
        return Arrays.copyOf(s, k);
    }

    /** 'data': numbers (nested arrays flattened, row-major) or strings. */
    private static void data(JsonParser p, JsonToken t, RawInput in) throws IOException {
        expect(t, JsonToken.START_ARRAY, "inputs.data");
        in.numbers = new float[1024];
        int depth = 1;
        while (depth > 0) {
            t = p.nextToken();
            if (t == JsonToken.START_ARRAY) {
                depth++;
            } else if (t == JsonToken.END_ARRAY) {
                depth--;
            } else if (t == JsonToken.VALUE_NUMBER_FLOAT || t == JsonToken.VALUE_NUMBER_INT) {
                if (in.strings != null) {
                    throw HttpError.badRequest("inputs.data: numbers and strings mixed");
                }
                if (in.count == in.numbers.length) {
                    in.numbers = Arrays.copyOf(in.numbers, in.numbers.length * 2);
                }
                in.numbers[in.count++] = p.getFloatValue();
            } else if (t == JsonToken.VALUE_STRING) {
                if (in.count > 0) {
                    throw HttpError.badRequest("inputs.data: numbers and strings mixed");
                }
                if (in.strings == null) {
                    in.strings = new ArrayList<>();
                }
                in.strings.add(p.getText());
            } else {
                throw HttpError.badRequest("inputs.data: expected numbers or strings, got " + t);
            }
        }
        if (in.strings != null) {
            in.numbers = null;
        }
    }

    private static void expect(JsonToken t, JsonToken want, String what) {
        if (t != want) {
            throw HttpError.badRequest(what + ": expected " + (want == JsonToken.START_OBJECT ? "an object"
                    : "an array") + ", got " + (t == null ? "the end" : t.asString() == null ? t.name() : t.asString()));
        }
    }

    private static String text(JsonParser p, JsonToken t, String what) throws IOException {
        if (t != JsonToken.VALUE_STRING) {
            throw HttpError.badRequest(what + ": expected a string");
        }
        return p.getText();
    }

    private static boolean bool(JsonToken t, String what) {
        if (t != JsonToken.VALUE_TRUE && t != JsonToken.VALUE_FALSE) {
            throw HttpError.badRequest(what + ": expected true or false");
        }
        return t == JsonToken.VALUE_TRUE;
    }

    /** A response: the JSON header (and its length) and, for binary output, the depth's bytes after it. */
    record Encoded(byte[] body, int headerLength, boolean binary) {}

    /** {@code depth}: n x h x w values for the request. */
    static Encoded response(String model, String id, float[] depth, int n, int h, int w, boolean binary) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(binary ? 256 : 64 + depth.length * 12);
        try (JsonGenerator g = Json.JSON.getFactory().createGenerator(out)) {
            g.writeStartObject();
            g.writeStringField("model_name", model);
            g.writeStringField("model_version", ServedModel.VERSION);
            if (id != null) {
                g.writeStringField("id", id);
            }
            g.writeArrayFieldStart("outputs");
            g.writeStartObject();
            g.writeStringField("name", InferenceRequest.DEPTH);
            g.writeStringField("datatype", "FP32");
            g.writeArrayFieldStart("shape");
            g.writeNumber(n);
            g.writeNumber(h);
            g.writeNumber(w);
            g.writeEndArray();
            if (binary) {
                g.writeObjectFieldStart("parameters");
                g.writeNumberField("binary_data_size", (long) depth.length * 4);
                g.writeEndObject();
            } else {
                g.writeArrayFieldStart("data");
                for (float v : depth) {
                    g.writeNumber(v);
                }
                g.writeEndArray();
            }
            g.writeEndObject();
            g.writeEndArray();
            g.writeEndObject();
        } catch (IOException e) {
            throw new IllegalStateException(e); // in memory: cannot happen
        }
        int header = out.size();
        if (!binary) {
            return new Encoded(out.toByteArray(), header, false);
        }
        // the depth's bytes written once, straight into the body after the header (no staging copies)
        byte[] body = Arrays.copyOf(out.toByteArray(), header + depth.length * 4);
        ByteBuffer.wrap(body, header, depth.length * 4).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().put(depth);
        return new Encoded(body, header, true);
    }
}
