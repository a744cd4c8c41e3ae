package com.loratool.io;

import com.loratool.LoraException;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * NumPy .npy files (format versions 1, 2, 3): reading any common numeric dtype in C or Fortran
 * order into a row-major float array, and writing float32 / uint8 / bool arrays.
 */
public final class Npy {
    private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
    private static final Pattern DESCR = Pattern.compile("'descr'\\s*:\\s*'([^']*)'");
    private static final Pattern FORTRAN = Pattern.compile("'fortran_order'\\s*:\\s*(True|False)");
    private static final Pattern SHAPE = Pattern.compile("'shape'\\s*:\\s*\\(([^)]*)\\)");

    private Npy() {}

    /** Reads a .npy file. Errors name the file: missing, not .npy, unsupported dtype, truncated. */
    public static NpyArray read(Path file) {
        InputFiles.regularFile(file); // a FIFO or a folder is refused by its attributes, never opened
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size > Integer.MAX_VALUE) {
                throw LoraException.file(file, "too large for a .npy array (" + size + " bytes)");
            }
            ByteBuffer b = ByteBuffer.allocate((int) size);
            while (b.hasRemaining() && ch.read(b) >= 0) {
                // keep reading
            }
            b.flip();
            return parse(file.toString(), b);
        } catch (NoSuchFileException e) {
            throw LoraException.file(file, "file not found");
        } catch (IOException e) {
            throw LoraException.file(file, "cannot read (" + e.getMessage() + ")", e);
        }
    }

    /** Parses .npy bytes; {@code name} is used in error messages. */
    public static NpyArray parse(String name, ByteBuffer buf) {
        ByteBuffer b = buf.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        int base = b.position();
        int avail = b.remaining();
        if (avail < 10) {
            throw new LoraException(name + ": not a .npy file (only " + avail + " bytes)");
        }
        for (int i = 0; i < MAGIC.length; i++) {
            if (b.get(base + i) != MAGIC[i]) {
                throw new LoraException(name + ": not a .npy file (bad magic)");
            }
        }
        int major = b.get(base + 6) & 0xff;
        long headerLen;
        int headerStart;
        if (major == 1) {
            headerLen = b.getShort(base + 8) & 0xffff;
            headerStart = 10;
        } else if (major == 2 || major == 3) {
            if (avail < 12) {
                throw new LoraException(name + ": truncated .npy header");
            }
            headerLen = b.getInt(base + 8) & 0xffffffffL;
            headerStart = 12;
        } else {
            throw new LoraException(name + ": unsupported .npy format version " + major);
        }
        if (headerStart + headerLen > avail) {
            throw new LoraException(name + ": truncated .npy header (header of " + headerLen
                    + " bytes in a file of " + avail + ")");
        }
        byte[] hb = new byte[(int) headerLen];
        b.get(base + headerStart, hb);
        String header = new String(hb, major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);
        Matcher md = DESCR.matcher(header);
        Matcher mf = FORTRAN.matcher(header);
        Matcher ms = SHAPE.matcher(header);
        if (!md.find() || !mf.find() || !ms.find()) {
            throw new LoraException(name + ": bad .npy header: " + Printable.of(header.strip()));
        }
        String descr = md.group(1);
        boolean fortran = mf.group(1).equals("True");
        long[] shape = parseShape(name, ms.group(1));
        DType dt = dtypeOf(name, descr);
        ByteOrder order = descr.charAt(0) == '>' ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN;
        long n = Shapes.numelOrMinusOne(shape);
        if (n < 0) {
            throw new LoraException(name + ": bad .npy shape " + Arrays.toString(shape)
                    + " (more values than a long can count)");
        }
        long dataStart = headerStart + headerLen;
        long have = avail - dataStart;
        if (n > have / dt.size()) { // n * size > have, without computing a product that may overflow
            String need = n <= Long.MAX_VALUE / dt.size() ? String.valueOf(n * dt.size()) : "over 2^63";
            throw new LoraException(name + ": truncated .npy (expected " + need + " bytes of data, found "
                    + have + ")");
        }
        if (n > Integer.MAX_VALUE - 8) {
            throw new LoraException(name + ": array too large (" + n + " values)");
        }
        long need = n * dt.size();
        if (have != need) {
            throw new LoraException(name + ": shape " + Arrays.toString(shape) + " does not match the data ("
                    + "expected " + need + " bytes of data, found " + have + ")");
        }
        b.order(order);
        float[] raw = new float[(int) n];
        dt.decodeContiguous(b, (int) (base + dataStart), raw);
        float[] data = fortran && shape.length > 1 ? fortranToC(raw, shape) : raw;
        return new NpyArray(shape, data, descr);
    }

    private static long[] parseShape(String name, String s) {
        List<Long> dims = new ArrayList<>();
        for (String part : s.split(",")) {
            String t = part.strip();
            if (t.isEmpty()) {
                continue;
            }
            try {
                long d = Long.parseLong(t.endsWith("L") ? t.substring(0, t.length() - 1) : t);
                if (d < 0) {
                    throw new NumberFormatException();
                }
                dims.add(d);
            } catch (NumberFormatException e) {
                throw new LoraException(name + ": bad .npy shape (" + Printable.of(s) + ")");
            }
        }
        long[] shape = new long[dims.size()];
        for (int i = 0; i < shape.length; i++) {
            shape[i] = dims.get(i);
        }
        return shape;
    }

    private static DType dtypeOf(String name, String descr) {
        String t = descr.length() == 3 ? descr.substring(1) : descr;
        char bo = descr.length() == 3 ? descr.charAt(0) : '?';
        if (descr.length() != 3 || "<>|=".indexOf(bo) < 0) {
            throw new LoraException(name + ": unsupported .npy dtype '" + Printable.of(descr) + "'");
        }
        switch (t) {
            case "f4": return DType.F32;
            case "f8": return DType.F64;
            case "f2": return DType.F16;
            case "u2": return DType.U16;
            case "i2": return DType.I16;
            case "i4": return DType.I32;
            case "i8": return DType.I64;
            case "u1": return DType.U8;
            case "i1": return DType.I8;
            case "b1": return DType.BOOL;
            default:
                throw new LoraException(name + ": unsupported .npy dtype '" + Printable.of(descr)
                        + "' (supported: f2 f4 f8 i1 i2 i4 i8 u1 u2 b1)");
        }
    }

    /** Reorders a column-major array of the given shape into row-major order. */
    static float[] fortranToC(float[] f, long[] shape) {
        int nd = shape.length;
        int n = f.length;
        float[] c = new float[n];
        // Fortran strides: stride[0] = 1, stride[k] = stride[k-1] * shape[k-1]
        long[] fstride = new long[nd];
        long s = 1;
        for (int k = 0; k < nd; k++) {
            fstride[k] = s;
            s *= shape[k];
        }
        int[] idx = new int[nd];
        long off = 0;
        for (int i = 0; i < n; i++) {
            c[i] = f[(int) off];
            for (int k = nd - 1; k >= 0; k--) {
                idx[k]++;
                off += fstride[k];
                if (idx[k] < shape[k]) {
                    break;
                }
                off -= fstride[k] * idx[k];
                idx[k] = 0;
            }
        }
        return c;
    }

    /** Writes a float32 array (C order), atomically. */
    public static void write(Path file, long[] shape, float[] data) {
        checkSize(shape, data.length);
        AtomicFiles.write(file, out -> {
            writeHeader(out, "<f4", shape);
            ByteBuffer b = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);
            for (float v : data) {
                if (!b.hasRemaining()) {
                    out.write(b.array(), 0, b.position());
                    b.clear();
                }
                b.putFloat(v);
            }
            out.write(b.array(), 0, b.position());
        });
    }

    /** Writes a uint8 array (C order), atomically. */
    public static void writeUint8(Path file, long[] shape, byte[] data) {
        checkSize(shape, data.length);
        AtomicFiles.write(file, out -> {
            writeHeader(out, "|u1", shape);
            out.write(data);
        });
    }

    /** Writes a bool array (C order), atomically. */
    public static void writeBool(Path file, long[] shape, boolean[] data) {
        checkSize(shape, data.length);
        AtomicFiles.write(file, out -> {
            writeHeader(out, "|b1", shape);
            byte[] bytes = new byte[data.length];
            for (int i = 0; i < data.length; i++) {
                bytes[i] = (byte) (data[i] ? 1 : 0);
            }
            out.write(bytes);
        });
    }

    private static void checkSize(long[] shape, int n) {
        long need = 1;
        for (long d : shape) {
            need *= d;
        }
        if (need != n) {
            throw new IllegalArgumentException("shape needs " + need + " values, got " + n);
        }
    }

    /** Version-1 header, padded with spaces so that the data starts on a 64-byte boundary. */
    private static void writeHeader(OutputStream out, String descr, long[] shape) throws IOException {
        StringBuilder sb = new StringBuilder("{'descr': '").append(descr)
                .append("', 'fortran_order': False, 'shape': (");
        for (int i = 0; i < shape.length; i++) {
            sb.append(shape[i]);
            if (shape.length == 1 || i < shape.length - 1) {
                sb.append(shape.length == 1 ? "," : ", ");
            }
        }
        sb.append("), }");
        int total = 10 + sb.length() + 1;
        int pad = (64 - total % 64) % 64;
        sb.append(" ".repeat(pad)).append('\n');
        byte[] h = sb.toString().getBytes(StandardCharsets.ISO_8859_1);
        DataOutputStream d = new DataOutputStream(out);
        d.write(MAGIC);
        d.write(1);
        d.write(0);
        d.write(h.length & 0xff);
        d.write((h.length >>> 8) & 0xff);
        d.write(h);
        d.flush();
    }

    /** True if the file starts with the .npy magic. */
    public static boolean looksLikeNpy(Path file) {
        if (!Files.isRegularFile(file)) {
            return false; // never open a FIFO: it would block
        }
        try (var in = Files.newInputStream(file)) {
            byte[] m = in.readNBytes(6);
            return Arrays.equals(m, MAGIC);
        } catch (IOException e) {
            return false;
        }
    }
}
