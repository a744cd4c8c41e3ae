package com.loratool.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PlyTest {
    static final float[] XYZ = {1, 2, 3, Float.NaN, Float.NaN, Float.NaN, -4.5f, 0.25f, 1000.125f, 7, Float.NaN, 9};
    static final String HEADER_END = "end_header\n";

    @Test
    void binaryHeaderCountsFinitePointsAndVerticesFollow(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("c.ply");
        assertEquals(2, Ply.write(f, XYZ, false));
        byte[] b = Files.readAllBytes(f);
        String text = new String(b, StandardCharsets.US_ASCII);
        int body = text.indexOf(HEADER_END) + HEADER_END.length();
        assertEquals("ply\nformat binary_little_endian 1.0\ncomment written by lora\nelement vertex 2\n"
                + "property float x\nproperty float y\nproperty float z\nend_header\n", text.substring(0, body));
        assertEquals(2 * 12, b.length - body);
        ByteBuffer bb = ByteBuffer.wrap(b, body, 24).order(ByteOrder.LITTLE_ENDIAN);
        float[] got = new float[6];
        for (int i = 0; i < 6; i++) {
            got[i] = bb.getFloat();
        }
        assertArrayEquals(new float[] {1, 2, 3, -4.5f, 0.25f, 1000.125f}, got);
    }

    @Test
    void asciiHasOneLinePerFinitePoint(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("c.ply");
        Ply.write(f, XYZ, true);
        String text = Files.readString(f);
        assertEquals("ply\nformat ascii 1.0\ncomment written by lora\nelement vertex 2\n"
                + "property float x\nproperty float y\nproperty float z\nend_header\n1.0 2.0 3.0\n-4.5 0.25 1000.125\n", text);
    }

    @Test
    void coloursAreUcharRedGreenBluePerWrittenVertex(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("c.ply");
        byte[] rgb = {10, 20, 30, 1, 2, 3, (byte) 200, (byte) 255, 0, 4, 5, 6};
        Ply.write(f, XYZ, rgb, true);
        assertEquals("ply\nformat ascii 1.0\ncomment written by lora\nelement vertex 2\n"
                + "property float x\nproperty float y\nproperty float z\n"
                + "property uchar red\nproperty uchar green\nproperty uchar blue\nend_header\n"
                + "1.0 2.0 3.0 10 20 30\n-4.5 0.25 1000.125 200 255 0\n", Files.readString(f));
        Ply.write(f, XYZ, rgb, false);
        byte[] b = Files.readAllBytes(f);
        int body = new String(b, StandardCharsets.US_ASCII).indexOf(HEADER_END) + HEADER_END.length();
        assertEquals(2 * 15, b.length - body);
        assertEquals((byte) 200, b[body + 15 + 12]);
        assertEquals((byte) 255, b[body + 15 + 13]);
    }
}
