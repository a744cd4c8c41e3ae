package com.loratool.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/** Test helper: a safetensors file's bytes with the first F32 value of one tensor set to NaN. */
final class NanSafetensors {
    private NanSafetensors() {}

    static byte[] withNan(Path file, String tensor) {
        try {
            byte[] b = Files.readAllBytes(file);
            ByteBuffer bb = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
            long len = bb.getLong(0);
            JsonNode h = new ObjectMapper().readTree(new String(b, 8, (int) len, StandardCharsets.UTF_8));
            long begin = h.get(tensor).get("data_offsets").get(0).longValue();
            bb.putFloat((int) (8 + len + begin), Float.NaN);
            return b;
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }
}
