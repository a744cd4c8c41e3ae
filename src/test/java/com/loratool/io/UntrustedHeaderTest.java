package com.loratool.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.loratool.LoraException;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.CRC32;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Headers that lie: every reader checks declared sizes with exact arithmetic against the real
 * length of the file and answers with one LoraException line naming the file.
 */
class UntrustedHeaderTest {
    @TempDir
    Path tmp;

    private Path npy(String name, String shape, int dataBytes) throws Exception {
        Path p = tmp.resolve(name);
        Files.write(p, NpyTest.npy("{'descr': '<f4', 'fortran_order': False, 'shape': " + shape + ", }",
                new byte[dataBytes]));
        return p;
    }

    private static LoraException fails(Path file, org.junit.jupiter.api.function.Executable ex, String text) {
        LoraException e = assertThrows(LoraException.class, ex);
        assertTrue(e.getMessage().startsWith(file + ": "), e.getMessage());
        assertTrue(e.getMessage().contains(text), e.getMessage());
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
        return e;
    }

    @Test
    void npyShapeProductThatOverflowsIsAOneLineErrorNamingTheFile() throws Exception {
        // 2^62 * 4 wraps to 0 in long arithmetic; 2^62 * 3 to a negative count
        // (NegativeArraySizeException before the fix)
        Path neg = npy("neg.npy", "(4611686018427387904, 3)", 16);
        fails(neg, () -> Npy.read(neg), "shape");
        Path wrap = npy("wrap.npy", "(4294967296, 4294967296)", 0);
        fails(wrap, () -> Npy.read(wrap), "shape");
    }

    @Test
    void npyShapeWhoseProductWrapsToTheDataLengthIsNotOk() throws Exception {
        // 2^32 * 2^32 + ... : (2^63 + 2^63 + 4) wraps to the 4 values that are present; before the
        // fix this read as a valid 4-value array.
        Path p = npy("lie.npy", "(2, 4611686018427387904, 1)", 16);
        Path q = npy("lie2.npy", "(4294967297, 4294967297, 1)", 4 * 4);
        fails(p, () -> Npy.read(p), "shape");
        fails(q, () -> Npy.read(q), "shape");
    }

    @Test
    void npyDataLongerThanTheShapeIsAnError() throws Exception {
        Path p = npy("long.npy", "(2, 2)", 4 * 4 + 8);
        fails(p, () -> Npy.read(p), "does not match the data");
    }

    @Test
    void npyNegativeOrAbsurdShapeEntries() throws Exception {
        Path p = npy("minus.npy", "(-1, 4)", 16);
        fails(p, () -> Npy.read(p), "shape");
        Path big = npy("big.npy", "(99999999999999999999999, 1)", 4);
        fails(big, () -> Npy.read(big), "shape");
    }

    @Test
    void npyHeaderLengthPastTheEndOfTheFile() throws Exception {
        Path p = tmp.resolve("hdr.npy");
        byte[] b = NpyTest.npyVersion(2, "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", new byte[4]);
        ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putInt(8, 0x7fffffff);
        Files.write(p, b);
        fails(p, () -> Npy.read(p), "header");
    }

    @Test
    void safetensorsShapeProductThatOverflows() throws Exception {
        // 2^62 * 4 elements of F32 wraps to 0 bytes: an empty data range must not pass
        Path p = safetensors("{\"t\":{\"dtype\":\"F32\",\"shape\":[4611686018427387904,4],\"data_offsets\":[0,0]}}", 0);
        // each refused for its own reason, naming the tensor
        fails(p, () -> Safetensors.read(p), "bad shape for 't' [4611686018427387904, 4] (more values than a long can count)");
        Path neg = safetensors("{\"t\":{\"dtype\":\"F32\",\"shape\":[-1,-4],\"data_offsets\":[0,16]}}", 16);
        fails(neg, () -> Safetensors.read(neg), "bad shape for 't' ([-1,-4]): dimensions must be integers >= 0");
        Path frac = safetensors("{\"t\":{\"dtype\":\"F32\",\"shape\":[\"x\"],\"data_offsets\":[0,0]}}", 0);
        fails(frac, () -> Safetensors.read(frac), "bad shape for 't' ([\"x\"]): dimensions must be integers >= 0");
    }

    private Path safetensors(String header, int dataBytes) throws Exception {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + h.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(h.length).put(h);
        Path p = tmp.resolve("t" + System.nanoTime() + ".safetensors");
        Files.write(p, b.array());
        return p;
    }

    @Test
    void zipEntryWhoseSizeLiesIsAnError() throws Exception {
        // a stored entry claiming more bytes than the archive holds
        byte[] inner = NpyTest.npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", new byte[4]);
        byte[] zip = storedZip("a.npy", inner);
        // central directory: compressed and uncompressed size at +20 / +24 of the entry
        int cd = zip.length - 22 - (46 + 5);
        ByteBuffer.wrap(zip).order(ByteOrder.LITTLE_ENDIAN).putInt(cd + 20, 0x7ffffff0).putInt(cd + 24, 0x7ffffff0);
        Path p = tmp.resolve("lie.npz");
        Files.write(p, zip);
        fails(p, () -> Npz.read(p), "a.npy");
        // and an entry offset past the end of the file
        byte[] zip2 = storedZip("a.npy", inner);
        ByteBuffer.wrap(zip2).order(ByteOrder.LITTLE_ENDIAN).putInt(cd + 42, 0x7ffffff0);
        Path q = tmp.resolve("off.npz");
        Files.write(q, zip2);
        fails(q, () -> Npz.read(q), "a.npy");
        // the honest archive reads
        Path ok = tmp.resolve("ok.npz");
        Files.write(ok, storedZip("a.npy", inner));
        assertEquals(1, Npz.read(ok).get("a").data().length);
    }

    /** A one-entry stored zip written by hand (no data descriptor, no zip64). */
    static byte[] storedZip(String name, byte[] data) {
        byte[] n = name.getBytes(StandardCharsets.UTF_8);
        CRC32 crc = new CRC32();
        crc.update(data);
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        ByteBuffer l = ByteBuffer.allocate(30).order(ByteOrder.LITTLE_ENDIAN);
        l.putInt(0x04034b50).putShort((short) 20).putShort((short) 0).putShort((short) 0).putInt(0)
                .putInt((int) crc.getValue()).putInt(data.length).putInt(data.length)
                .putShort((short) n.length).putShort((short) 0);
        o.writeBytes(l.array());
        o.writeBytes(n);
        o.writeBytes(data);
        int cdStart = o.size();
        ByteBuffer c = ByteBuffer.allocate(46).order(ByteOrder.LITTLE_ENDIAN);
        c.putInt(0x02014b50).putShort((short) 20).putShort((short) 20).putShort((short) 0).putShort((short) 0)
                .putInt(0).putInt((int) crc.getValue()).putInt(data.length).putInt(data.length)
                .putShort((short) n.length).putShort((short) 0).putShort((short) 0).putShort((short) 0)
                .putShort((short) 0).putInt(0).putInt(0);
        o.writeBytes(c.array());
        o.writeBytes(n);
        int cdSize = o.size() - cdStart;
        ByteBuffer e = ByteBuffer.allocate(22).order(ByteOrder.LITTLE_ENDIAN);
        e.putInt(0x06054b50).putShort((short) 0).putShort((short) 0).putShort((short) 1).putShort((short) 1)
                .putInt(cdSize).putInt(cdStart).putShort((short) 0);
        o.writeBytes(e.array());
        return o.toByteArray();
    }
}
