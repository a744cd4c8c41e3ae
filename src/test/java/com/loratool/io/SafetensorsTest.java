package com.loratool.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.loratool.LoraException;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafetensorsTest {
    @TempDir
    Path tmp;

    @Test
    void roundTripSortedAlignedWithMetadata() throws Exception {
        Map<String, HostTensor> t = new LinkedHashMap<>();
        t.put("z.weight", new HostTensor(new long[] {2, 3}, new float[] {1, 2, 3, 4, 5, 6}));
        t.put("a.bias", new HostTensor(new long[] {1}, new float[] {-0.25f}));
        t.put("scalar", new HostTensor(new long[] {}, new float[] {7}));
        Path p = tmp.resolve("m.safetensors");
        Safetensors.write(p, t, Map.of("format", "pt", "rank", "4"));
        byte[] bytes = Files.readAllBytes(p);
        long headerLen = ByteBuffer.wrap(bytes, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        assertEquals(0, headerLen % 8);
        assertEquals(8 + headerLen + 4 * (6 + 1 + 1), bytes.length);
        Safetensors.Contents c = Safetensors.readWithMetadata(p);
        assertEquals(List.of("a.bias", "scalar", "z.weight"), List.copyOf(c.tensors().keySet()));
        assertArrayEquals(new long[] {2, 3}, c.tensors().get("z.weight").shape());
        assertArrayEquals(new float[] {1, 2, 3, 4, 5, 6}, c.tensors().get("z.weight").data());
        assertArrayEquals(new float[] {-0.25f}, c.tensors().get("a.bias").data());
        assertEquals(0, c.tensors().get("scalar").shape().length);
        assertEquals(Map.of("format", "pt", "rank", "4"), c.metadata());
        assertEquals("4", Safetensors.readMetadata(p).get("rank"));
    }

    /** Hand-made file with F16, BF16 and F64 tensors. */
    @Test
    void halfAndDoubleTypesAreWidened() throws Exception {
        String header = "{\"h\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[0,4]},"
                + "\"b\":{\"dtype\":\"BF16\",\"shape\":[2],\"data_offsets\":[4,8]},"
                + "\"d\":{\"dtype\":\"F64\",\"shape\":[1,1],\"data_offsets\":[8,16]}}";
        ByteBuffer data = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN);
        data.putShort((short) 0x3c00).putShort((short) 0xc000); // f16 1.0, -2.0
        data.putShort((short) 0x3f80).putShort((short) 0x4049); // bf16 1.0, 3.140625
        data.putDouble(0.125);
        Path p = tmp.resolve("h.safetensors");
        Files.write(p, file(header, data.array()));
        Map<String, HostTensor> t = Safetensors.read(p);
        assertEquals(List.of("h", "b", "d"), List.copyOf(t.keySet()));
        assertArrayEquals(new float[] {1f, -2f}, t.get("h").data());
        assertArrayEquals(new float[] {1f, 3.140625f}, t.get("b").data());
        assertArrayEquals(new float[] {0.125f}, t.get("d").data());
        assertArrayEquals(new long[] {1, 1}, t.get("d").shape());
    }

    @Test
    void badFilesGiveOneLineErrors() throws Exception {
        Path junk = tmp.resolve("junk.safetensors");
        Files.writeString(junk, "this is not a safetensors file at all");
        assertTrue(assertThrows(LoraException.class, () -> Safetensors.read(junk)).getMessage()
                .startsWith(junk + ": not a safetensors file"));
        String header = "{\"w\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}";
        Path trunc = tmp.resolve("t.safetensors");
        Files.write(trunc, file(header, new byte[8]));
        assertTrue(assertThrows(LoraException.class, () -> Safetensors.read(trunc)).getMessage()
                .contains("truncated or corrupt"));
        Path c64 = tmp.resolve("c.safetensors");
        Files.write(c64, file("{\"w\":{\"dtype\":\"C64\",\"shape\":[1],\"data_offsets\":[0,8]}}", new byte[8]));
        assertTrue(assertThrows(LoraException.class, () -> Safetensors.read(c64)).getMessage()
                .contains("unsupported dtype 'C64'"));
        assertEquals(tmp.resolve("none") + ": file not found",
                assertThrows(LoraException.class, () -> Safetensors.read(tmp.resolve("none"))).getMessage());
    }

    @Test
    void readsHfFixture() {
        Path p = Path.of(System.getProperty("fixtures.dir"), "da2-tiny", "weights-hf.safetensors");
        Safetensors.Contents c = Safetensors.readWithMetadata(p);
        assertEquals("pt", c.metadata().get("format"));
        assertArrayEquals(new long[] {1, 1, 48}, c.tensors().get("backbone.embeddings.cls_token").shape());
        assertArrayEquals(new long[] {48, 48},
                c.tensors().get("backbone.encoder.layer.0.attention.attention.query.weight").shape());
    }

    private static byte[] file(String header, byte[] data) {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        o.writeBytes(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(h.length).array());
        o.writeBytes(h);
        o.writeBytes(data);
        return o.toByteArray();
    }
}
