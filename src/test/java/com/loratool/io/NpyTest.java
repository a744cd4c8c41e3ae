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
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NpyTest {
    @TempDir
    Path tmp;

    /** Hand-made .npy: version-1 header text plus raw payload bytes. */
    static byte[] npy(String header, byte[] payload) {
        return npyVersion(1, header, payload);
    }

    static byte[] npyVersion(int major, String header, byte[] payload) {
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        o.writeBytes(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', (byte) major, 0});
        byte[] h = (header + "\n").getBytes(StandardCharsets.ISO_8859_1);
        if (major == 1) {
            o.write(h.length & 0xff);
            o.write(h.length >> 8);
        } else {
            o.writeBytes(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(h.length).array());
        }
        o.writeBytes(h);
        o.writeBytes(payload);
        return o.toByteArray();
    }

    static byte[] le(int bytesPer, long... values) {
        ByteBuffer b = ByteBuffer.allocate(bytesPer * values.length).order(ByteOrder.LITTLE_ENDIAN);
        for (long v : values) {
            switch (bytesPer) {
                case 1 -> b.put((byte) v);
                case 2 -> b.putShort((short) v);
                case 4 -> b.putInt((int) v);
                default -> b.putLong(v);
            }
        }
        return b.array();
    }

    static byte[] f32(float... values) {
        ByteBuffer b = ByteBuffer.allocate(4 * values.length).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) {
            b.putFloat(v);
        }
        return b.array();
    }

    private Path file(String name, byte[] bytes) throws Exception {
        Path p = tmp.resolve(name);
        Files.write(p, bytes);
        return p;
    }

    @Test
    void readsFloat32COrder() throws Exception {
        Path p = file("a.npy", npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }",
                f32(1, 2, 3, 4, 5, 6)));
        NpyArray a = Npy.read(p);
        assertArrayEquals(new long[] {2, 3}, a.shape());
        assertArrayEquals(new float[] {1, 2, 3, 4, 5, 6}, a.data());
        assertEquals("<f4", a.dtype());
    }

    @Test
    void fortranOrderIsReorderedToRowMajor() throws Exception {
        // the 2x3 matrix [[1,2,3],[4,5,6]] stored column by column: 1 4 2 5 3 6
        Path p = file("f.npy", npy("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }",
                f32(1, 4, 2, 5, 3, 6)));
        assertArrayEquals(new float[] {1, 2, 3, 4, 5, 6}, Npy.read(p).data());
        // 3-D: shape (2,2,2); element [i,j,k] = 100i + 10j + k, stored with i fastest
        float[] col = new float[8];
        for (int i = 0; i < 2; i++) {
            for (int j = 0; j < 2; j++) {
                for (int k = 0; k < 2; k++) {
                    col[i + 2 * j + 4 * k] = 100 * i + 10 * j + k;
                }
            }
        }
        Path q = file("f3.npy", npy("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2, 2), }", f32(col)));
        assertArrayEquals(new float[] {0, 1, 10, 11, 100, 101, 110, 111}, Npy.read(q).data());
    }

    @Test
    void float16IsWidened() throws Exception {
        // bit patterns from numpy: 1.0=0x3c00, -0.3333 -> 46421 (= -0.333251953125), 65504=31743,
        // smallest subnormal 1 (= 5.960464477539063e-08), -0.0 = 0x8000
        Path p = file("h.npy", npy("{'descr': '<f2', 'fortran_order': False, 'shape': (5,), }",
                le(2, 0x3c00, 46421, 31743, 1, 0x8000)));
        NpyArray a = Npy.read(p);
        assertArrayEquals(new float[] {1f, -0.333251953125f, 65504f, 5.960464477539063e-08f, -0f}, a.data());
        assertEquals(Float.floatToIntBits(-0f), Float.floatToIntBits(a.data()[4]));
        assertEquals(Float.POSITIVE_INFINITY, DType.halfToFloat((short) 0x7c00));
        assertTrue(Float.isNaN(DType.halfToFloat((short) 0x7e00)));
    }

    @Test
    void integerBoolDoubleAndBigEndianTypes() throws Exception {
        assertArrayEquals(new float[] {0, 255, 7},
                Npy.read(file("u1.npy", npy("{'descr': '|u1', 'fortran_order': False, 'shape': (3,), }",
                        le(1, 0, 255, 7)))).data());
        assertArrayEquals(new float[] {1, 0, 1},
                Npy.read(file("b1.npy", npy("{'descr': '|b1', 'fortran_order': False, 'shape': (3,), }",
                        le(1, 1, 0, 1)))).data());
        assertArrayEquals(new float[] {65535, 3},
                Npy.read(file("u2.npy", npy("{'descr': '<u2', 'fortran_order': False, 'shape': (2,), }",
                        le(2, 65535, 3)))).data());
        assertArrayEquals(new float[] {-2, 3},
                Npy.read(file("i2.npy", npy("{'descr': '<i2', 'fortran_order': False, 'shape': (2,), }",
                        le(2, -2, 3)))).data());
        assertArrayEquals(new float[] {-5, 1 << 20},
                Npy.read(file("i4.npy", npy("{'descr': '<i4', 'fortran_order': False, 'shape': (2,), }",
                        le(4, -5, 1 << 20)))).data());
        assertArrayEquals(new float[] {-7, 1L << 40},
                Npy.read(file("i8.npy", npy("{'descr': '<i8', 'fortran_order': False, 'shape': (2,), }",
                        le(8, -7, 1L << 40)))).data());
        ByteBuffer d = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putDouble(0.1).putDouble(-2.5);
        assertArrayEquals(new float[] {0.1f, -2.5f},
                Npy.read(file("f8.npy", npy("{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }",
                        d.array()))).data());
        ByteBuffer be = ByteBuffer.allocate(8).order(ByteOrder.BIG_ENDIAN).putFloat(1.5f).putFloat(-3f);
        assertArrayEquals(new float[] {1.5f, -3f},
                Npy.read(file("be.npy", npy("{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }",
                        be.array()))).data());
    }

    @Test
    void version2HeaderAndScalarShape() throws Exception {
        NpyArray a = Npy.read(file("v2.npy", npyVersion(2,
                "{'descr': '<f4', 'fortran_order': False, 'shape': (), }", f32(42))));
        assertEquals(0, a.shape().length);
        assertArrayEquals(new float[] {42}, a.data());
        NpyArray b = Npy.read(file("v3.npy", npyVersion(3,
                "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 2), }", f32(1, 2))));
        assertArrayEquals(new long[] {1, 2}, b.shape());
    }

    @Test
    void truncatedAndBadFilesGiveOneLineErrors() throws Exception {
        Path p = file("t.npy", npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", f32(1, 2, 3)));
        LoraException e = assertThrows(LoraException.class, () -> Npy.read(p));
        assertTrue(e.getMessage().startsWith(p + ": truncated .npy (expected 24 bytes of data, found 12)"),
                e.getMessage());
        Path junk = file("junk.npy", "hello world, not numpy".getBytes(StandardCharsets.US_ASCII));
        assertTrue(assertThrows(LoraException.class, () -> Npy.read(junk)).getMessage().contains("not a .npy file"));
        Path c8 = file("c8.npy", npy("{'descr': '<c8', 'fortran_order': False, 'shape': (1,), }", f32(1, 2)));
        assertTrue(assertThrows(LoraException.class, () -> Npy.read(c8)).getMessage().contains("unsupported .npy dtype '<c8'"));
        Path missing = tmp.resolve("nope.npy");
        assertEquals(missing + ": file not found",
                assertThrows(LoraException.class, () -> Npy.read(missing)).getMessage());
        Path shortHeader = file("sh.npy", Arrays.copyOf(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", f32(1)), 30));
        assertTrue(assertThrows(LoraException.class, () -> Npy.read(shortHeader)).getMessage().contains("truncated .npy header"));
    }

    @Test
    void writeThenReadRoundTripsAndHeaderIsAligned() throws Exception {
        Path p = tmp.resolve("sub/w.npy");
        float[] data = {0.5f, -1f, 3.25f, Float.MIN_VALUE, 1e30f, 0f};
        Npy.write(p, new long[] {3, 2}, data);
        byte[] bytes = Files.readAllBytes(p);
        assertEquals(0, (bytes.length - 24) % 64, "data starts on a 64-byte boundary");
        NpyArray a = Npy.read(p);
        assertArrayEquals(new long[] {3, 2}, a.shape());
        assertArrayEquals(data, a.data());
        assertTrue(Files.notExists(tmp.resolve("sub/w.npy.tmp")));
        Npy.write(tmp.resolve("one.npy"), new long[] {4}, new float[] {1, 2, 3, 4});
        assertArrayEquals(new long[] {4}, Npy.read(tmp.resolve("one.npy")).shape());
        Npy.writeUint8(tmp.resolve("u.npy"), new long[] {2}, new byte[] {(byte) 200, 3});
        assertArrayEquals(new float[] {200, 3}, Npy.read(tmp.resolve("u.npy")).data());
        Npy.writeBool(tmp.resolve("b.npy"), new long[] {1, 2}, new boolean[] {true, false});
        NpyArray b = Npy.read(tmp.resolve("b.npy"));
        assertEquals("|b1", b.dtype());
        assertArrayEquals(new float[] {1, 0}, b.data());
    }

    @Test
    void readsFixtureArrays() {
        Path dir = Path.of(System.getProperty("fixtures.dir"), "da2-tiny");
        NpyArray raw = Npy.read(dir.resolve("expected_raw.npy"));
        assertArrayEquals(new long[] {1, 98, 154}, raw.shape());
        // values printed by numpy: a[0,0,0], a[0,50,77], a[0,97,153], float(a.sum())
        assertEquals(0.006108581f, raw.data()[0]);
        assertEquals(0.012546404f, raw.data()[50 * 154 + 77]);
        assertEquals(0f, raw.data()[97 * 154 + 153]);
        double sum = 0;
        for (float v : raw.data()) {
            sum += v;
        }
        assertEquals(158.11328125, sum, 1e-3);
        NpyArray in = Npy.read(dir.resolve("input_tensor.npy"));
        assertArrayEquals(new long[] {1, 3, 98, 154}, in.shape());
        assertEquals(-1.3647192f, in.data()[0]);
        assertEquals(-1.2775463f, in.data()[in.data().length - 1]);
    }

    @Test
    void npzStoredAndDeflated() throws Exception {
        byte[] a = npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", f32(1, 2));
        byte[] b = npy("{'descr': '|u1', 'fortran_order': False, 'shape': (1, 3), }", le(1, 4, 5, 6));
        Path p = tmp.resolve("x.npz");
        try (ZipOutputStream z = new ZipOutputStream(Files.newOutputStream(p))) {
            ZipEntry ea = new ZipEntry("depth.npy");
            ea.setMethod(ZipEntry.STORED);
            ea.setSize(a.length);
            ea.setCompressedSize(a.length);
            CRC32 crc = new CRC32();
            crc.update(a);
            ea.setCrc(crc.getValue());
            z.putNextEntry(ea);
            z.write(a);
            z.closeEntry();
            z.putNextEntry(new ZipEntry("mask.npy"));
            z.write(b);
            z.closeEntry();
        }
        Map<String, NpyArray> m = Npz.read(p);
        assertEquals(List.of("depth", "mask"), List.copyOf(m.keySet()));
        assertArrayEquals(new float[] {1, 2}, m.get("depth").data());
        assertArrayEquals(new long[] {1, 3}, m.get("mask").shape());
        assertArrayEquals(new float[] {4, 5, 6}, m.get("mask").data());
        Path bad = file("bad.npz", "not a zip".getBytes(StandardCharsets.US_ASCII));
        assertTrue(assertThrows(LoraException.class, () -> Npz.read(bad)).getMessage().startsWith(bad + ": "));
    }

    @Test
    void atomicWriteLeavesNoTempAndKeepsOldFileOnFailure() throws Exception {
        Path p = tmp.resolve("a.txt");
        AtomicFiles.writeString(p, "first");
        assertEquals("first", Files.readString(p));
        assertThrows(IllegalStateException.class, () -> AtomicFiles.write(p, out -> {
            out.write("partial".getBytes(StandardCharsets.UTF_8));
            throw new IllegalStateException("boom");
        }));
        assertEquals("first", Files.readString(p));
        assertTrue(Files.notExists(tmp.resolve("a.txt.tmp")));
    }
}
