package com.loratool.io;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * Writes point clouds as PLY (vertices only, {@code float x, y, z}, optionally {@code uchar red,
 * green, blue} per vertex as the official depth_to_pointcloud.py writes): binary little-endian or
 * ASCII. Points with a non-finite coordinate are skipped, so the vertex count is the number of
 * finite points.
 */
public final class Ply {
    private Ply() {}

    /** Writes the finite points of {@code xyz} (x0 y0 z0 x1 ...), atomically; returns their number. */
    public static int write(Path file, float[] xyz, boolean ascii) {
        return write(file, xyz, null, ascii);
    }

    /** As {@link #write(Path, float[], boolean)}, with {@code rgb} (r0 g0 b0 r1 ..., one per point) or null. */
    public static int write(Path file, float[] xyz, byte[] rgb, boolean ascii) {
        if (xyz.length % 3 != 0) {
            throw new IllegalArgumentException("xyz has " + xyz.length + " values, not a multiple of 3");
        }
        if (rgb != null && rgb.length != xyz.length) {
            throw new IllegalArgumentException("rgb has " + rgb.length + " values for " + xyz.length / 3 + " points");
        }
        int n = 0;
        for (int i = 0; i < xyz.length; i += 3) {
            if (finite(xyz, i)) {
                n++;
            }
        }
        String header = "ply\nformat " + (ascii ? "ascii" : "binary_little_endian") + " 1.0\n"
                + "comment written by lora\nelement vertex " + n + "\n"
                + "property float x\nproperty float y\nproperty float z\n"
                + (rgb != null ? "property uchar red\nproperty uchar green\nproperty uchar blue\n" : "") + "end_header\n";
        AtomicFiles.write(file, out -> {
            out.write(header.getBytes(StandardCharsets.US_ASCII));
            if (ascii) {
                writeAscii(out, xyz, rgb);
            } else {
                writeBinary(out, xyz, rgb);
            }
        });
        return n;
    }

    private static void writeBinary(OutputStream out, float[] xyz, byte[] rgb) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(15 * 4096).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < xyz.length; i += 3) {
            if (!finite(xyz, i)) {
                continue;
            }
            if (b.remaining() < 15) {
                out.write(b.array(), 0, b.position());
                b.clear();
            }
            b.putFloat(xyz[i]).putFloat(xyz[i + 1]).putFloat(xyz[i + 2]);
            if (rgb != null) {
                b.put(rgb[i]).put(rgb[i + 1]).put(rgb[i + 2]);
            }
        }
        out.write(b.array(), 0, b.position());
    }

    private static void writeAscii(OutputStream out, float[] xyz, byte[] rgb) throws IOException {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < xyz.length; i += 3) {
            if (!finite(xyz, i)) {
                continue;
            }
            // Float.toString gives the shortest decimal that reads back to the same float
            sb.append(Float.toString(xyz[i])).append(' ').append(Float.toString(xyz[i + 1])).append(' ')
                    .append(Float.toString(xyz[i + 2]));
            if (rgb != null) {
                sb.append(' ').append(rgb[i] & 0xff).append(' ').append(rgb[i + 1] & 0xff).append(' ').append(rgb[i + 2] & 0xff);
            }
            sb.append('\n');
            if (sb.length() > 1 << 16) {
                out.write(sb.toString().getBytes(StandardCharsets.US_ASCII));
                sb.setLength(0);
            }
        }
        out.write(sb.toString().getBytes(StandardCharsets.US_ASCII));
    }

    private static boolean finite(float[] p, int i) {
        return Float.isFinite(p[i]) && Float.isFinite(p[i + 1]) && Float.isFinite(p[i + 2]);
    }
}
