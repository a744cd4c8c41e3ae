package com.loratool.io;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.loratool.LoraException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * The safetensors format: an 8-byte little-endian header length, a JSON header
 * ({@code name -> {dtype, shape, data_offsets}} plus optional {@code __metadata__}), then the raw
 * little-endian tensor bytes. Reading widens F32/F16/BF16/F64 (and integer types) to float;
 * writing emits F32 with sorted keys and a header padded to 8 bytes.
 */
public final class Safetensors {
    private static final ObjectMapper JSON = Json.JSON.copy()
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION); // a tensor named twice is refused
    private static final long MAX_HEADER = 100L * 1024 * 1024;

    private Safetensors() {}

    /** Tensors (in header order) and the {@code __metadata__} strings. */
    public record Contents(LinkedHashMap<String, HostTensor> tensors, Map<String, String> metadata) {}

    /** Reads only the tensors. */
    public static LinkedHashMap<String, HostTensor> read(Path file) {
        return readWithMetadata(file).tensors();
    }

    /** Reads only the {@code __metadata__} map (cheap: the header alone). */
    public static Map<String, String> readMetadata(Path file) {
        InputFiles.regularFile(file);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            return metadataOf(header(file, ch));
        } catch (NoSuchFileException e) {
            throw LoraException.file(file, "file not found");
        } catch (IOException e) {
            throw LoraException.file(file, "cannot read (" + e.getMessage() + ")", e);
        }
    }

    /** Reads tensors and metadata. */
    public static Contents readWithMetadata(Path file) {
        InputFiles.regularFile(file);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            JsonNode header = header(file, ch);
            long headerLen = readHeaderLength(file, ch);
            long dataStart = 8 + headerLen;
            long dataLen = ch.size() - dataStart;
            LinkedHashMap<String, HostTensor> tensors = new LinkedHashMap<>();
            TreeMap<Long, long[]> spans = new TreeMap<>(); // begin -> {end}, for the layout rules
            Map<Long, String> spanNames = new LinkedHashMap<>();
            Iterator<Map.Entry<String, JsonNode>> it = header.fields();
            while (it.hasNext()) {
                Map.Entry<String, JsonNode> f = it.next();
                String name = f.getKey();
                if (name.equals("__metadata__")) {
                    continue;
                }
                JsonNode info = f.getValue();
                String shown = Printable.of(name);
                if (!info.isObject()) {
                    throw LoraException.file(file, "bad safetensors entry for '" + shown + "'");
                }
                DType dt = dtypeOf(file, shown, info.path("dtype").asText(""));
                JsonNode shapeNode = info.path("shape");
                JsonNode offs = info.path("data_offsets");
                if (!shapeNode.isArray() || !offs.isArray() || offs.size() != 2
                        || !isCount(offs.get(0)) || !isCount(offs.get(1))) {
                    throw LoraException.file(file, "bad safetensors entry for '" + shown + "'");
                }
                long[] shape = new long[shapeNode.size()];
                for (int i = 0; i < shape.length; i++) {
                    if (!isCount(shapeNode.get(i))) {
                        throw LoraException.file(file, "bad shape for '" + shown + "' (" + Printable.of(shapeNode)
                                + "): dimensions must be integers >= 0");
                    }
                    shape[i] = shapeNode.get(i).longValue();
                }
                long n = Shapes.numelOrMinusOne(shape);
                if (n < 0) {
                    throw LoraException.file(file, "bad shape for '" + shown + "' " + Arrays.toString(shape)
                            + " (more values than a long can count)");
                }
                long begin = offs.get(0).longValue();
                long end = offs.get(1).longValue();
                if (end < begin || end > dataLen) {
                    throw LoraException.file(file, "truncated or corrupt safetensors: '" + shown
                            + "' needs bytes " + begin + ".." + end + " of " + dataLen);
                }
                if (n > (end - begin) / dt.size() || n * dt.size() != end - begin) {
                    throw LoraException.file(file, "safetensors entry '" + shown + "' has "
                            + (end - begin) + " bytes for " + n + " values of " + dt);
                }
                if (n > 0) {
                    String clash = spanNames.putIfAbsent(begin, shown);
                    if (clash != null) {
                        throw LoraException.file(file, "safetensors entries '" + clash + "' and '" + shown
                                + "' overlap (both start at byte " + begin + ")");
                    }
                    spans.put(begin, new long[] {end});
                }
                if (n > Integer.MAX_VALUE - 8) {
                    throw LoraException.file(file, "tensor '" + shown + "' too large (" + n + " values)");
                }
                float[] data = new float[(int) n];
                if (n > 0) {
                    MappedByteBuffer m = ch.map(FileChannel.MapMode.READ_ONLY, dataStart + begin, end - begin);
                    m.order(ByteOrder.LITTLE_ENDIAN);
                    dt.decodeContiguous(m, 0, data);
                }
                if (dt != DType.BOOL && dt != DType.U8) {
                    Finite.require(file, "tensor '" + shown + "'", data);
                }
                tensors.put(name, new HostTensor(shape, data));
            }
            checkLayout(file, spans, spanNames, dataLen);
            return new Contents(tensors, metadataOf(header));
        } catch (NoSuchFileException e) {
            throw LoraException.file(file, "file not found");
        } catch (IOException e) {
            throw LoraException.file(file, "cannot read (" + e.getMessage() + ")", e);
        }
    }

    /**
     * The reference reader's layout rules: the non-empty tensors' byte ranges, in offset order, are
     * contiguous from 0 (no gap, no overlap) and end exactly at the end of the file.
     */
    private static void checkLayout(Path file, TreeMap<Long, long[]> spans, Map<Long, String> names, long dataLen) {
        long expected = 0;
        for (Map.Entry<Long, long[]> s : spans.entrySet()) {
            String name = names.get(s.getKey());
            if (s.getKey() < expected) {
                throw LoraException.file(file, "safetensors entry '" + name + "' overlaps the one before it (starts at"
                        + " byte " + s.getKey() + ", the previous ends at " + expected + ")");
            }
            if (s.getKey() > expected) {
                throw LoraException.file(file, "safetensors entry '" + name + "' starts at byte " + s.getKey()
                        + " but the data before it ends at " + expected + " (a gap: not contiguous)");
            }
            expected = s.getValue()[0];
        }
        if (expected != dataLen) {
            throw LoraException.file(file, "safetensors tensors cover " + expected + " of the " + dataLen
                    + " data bytes (the data must end where the last tensor does)");
        }
    }

    /** A JSON integer that fits a long and is not negative. */
    private static boolean isCount(JsonNode v) {
        return v != null && v.isIntegralNumber() && v.canConvertToLong() && v.longValue() >= 0;
    }

    private static long readHeaderLength(Path file, FileChannel ch) throws IOException {
        if (ch.size() < 8) {
            throw LoraException.file(file, "not a safetensors file (only " + ch.size() + " bytes)");
        }
        ByteBuffer lb = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        ch.read(lb, 0);
        long len = lb.getLong(0);
        if (len < 2 || len > MAX_HEADER || 8 + len > ch.size()) {
            throw LoraException.file(file, "not a safetensors file (bad header length " + len + ")");
        }
        return len;
    }

    private static JsonNode header(Path file, FileChannel ch) throws IOException {
        long len = readHeaderLength(file, ch);
        ByteBuffer hb = ByteBuffer.allocate((int) len);
        while (hb.hasRemaining() && ch.read(hb, 8 + hb.position()) > 0) {
            // keep reading
        }
        String text = new String(hb.array(), StandardCharsets.UTF_8);
        try {
            JsonNode h = JSON.readTree(text);
            if (h == null || !h.isObject()) {
                throw LoraException.file(file, "not a safetensors file (header is not a JSON object)");
            }
            return h;
        } catch (JsonProcessingException e) {
            if (e.getMessage() != null && e.getMessage().startsWith("Duplicate field")) {
                throw LoraException.file(file, "safetensors header names a tensor twice ("
                        + Printable.of(e.getOriginalMessage()) + ")");
            }
            throw LoraException.file(file, "not a safetensors file (header is not JSON)");
        }
    }

    private static Map<String, String> metadataOf(JsonNode header) {
        Map<String, String> meta = new LinkedHashMap<>();
        JsonNode m = header.get("__metadata__");
        if (m != null && m.isObject()) {
            m.fields().forEachRemaining(e -> meta.put(e.getKey(), e.getValue().isValueNode()
                    ? e.getValue().asText() : e.getValue().toString()));
        }
        return meta;
    }

    private static DType dtypeOf(Path file, String name, String s) {
        switch (s) {
            case "F32": return DType.F32;
            case "F16": return DType.F16;
            case "BF16": return DType.BF16;
            case "F64": return DType.F64;
            case "I64": return DType.I64;
            case "I32": return DType.I32;
            case "I16": return DType.I16;
            case "U16": return DType.U16;
            case "I8": return DType.I8;
            case "U8": return DType.U8;
            case "BOOL": return DType.BOOL;
            default:
                throw LoraException.file(file, "unsupported dtype '" + Printable.of(s) + "' for tensor '" + name + "'");
        }
    }

    /** Writes tensors as F32 with sorted keys, 8-byte aligned header, atomically. */
    public static void write(Path file, Map<String, HostTensor> tensors, Map<String, String> metadata) {
        tensors.forEach((k, t) -> Finite.require(file, "tensor '" + Printable.of(k) + "' to write", t.data()));
        TreeMap<String, HostTensor> sorted = new TreeMap<>(tensors);
        ObjectNode header = JSON.createObjectNode();
        if (metadata != null && !metadata.isEmpty()) {
            ObjectNode m = header.putObject("__metadata__");
            new TreeMap<>(metadata).forEach(m::put);
        }
        long off = 0;
        for (Map.Entry<String, HostTensor> e : sorted.entrySet()) {
            ObjectNode info = header.putObject(e.getKey());
            info.put("dtype", "F32");
            var shape = info.putArray("shape");
            for (long d : e.getValue().shape()) {
                shape.add(d);
            }
            long len = 4L * e.getValue().data().length;
            var offs = info.putArray("data_offsets");
            offs.add(off);
            offs.add(off + len);
            off += len;
        }
        byte[] h;
        try {
            h = JSON.writeValueAsBytes(header);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
        int pad = (8 - h.length % 8) % 8;
        byte[] hp = new byte[h.length + pad];
        System.arraycopy(h, 0, hp, 0, h.length);
        Arrays.fill(hp, h.length, hp.length, (byte) ' ');
        AtomicFiles.write(file, out -> {
            ByteBuffer lb = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            lb.putLong(hp.length);
            out.write(lb.array());
            out.write(hp);
            ByteBuffer b = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);
            for (HostTensor t : sorted.values()) {
                for (float v : t.data()) {
                    if (!b.hasRemaining()) {
                        out.write(b.array(), 0, b.position());
                        b.clear();
                    }
                    b.putFloat(v);
                }
            }
            out.write(b.array(), 0, b.position());
        });
    }
}
