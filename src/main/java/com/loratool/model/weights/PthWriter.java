package com.loratool.model.weights;

import com.loratool.io.AtomicFiles;
import com.loratool.io.HostTensor;
import java.io.ByteArrayOutputStream;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.util.Map;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/**
 * Writes a state dict the way {@code torch.save(state_dict, f)} does, so that {@code torch.load}
 * and the official code's {@code load_state_dict(strict=True)} accept it: a zip (entries stored,
 * tensor data aligned to 64 bytes like torch's writer) holding {@code archive/data.pkl} (a
 * protocol-2 pickle of an {@code OrderedDict} of {@code _rebuild_tensor_v2} calls),
 * {@code archive/byteorder}, {@code archive/data/<i>} (float32 little-endian, one contiguous
 * storage per tensor) and {@code archive/version}.
 */
public final class PthWriter {
    private static final String ARCHIVE = "archive/";
    private static final int ALIGN = 64;
    private static final LocalDateTime EPOCH = LocalDateTime.of(2000, 1, 1, 0, 0);

    private PthWriter() {}

    /** Writes {@code tensors} (in map order) as float32, atomically. */
    public static void write(Path file, Map<String, HostTensor> tensors) {
        byte[] pickle = pickle(tensors);
        AtomicFiles.write(file, raw -> {
            CountingOutputStream counted = new CountingOutputStream(raw);
            try (ZipOutputStream zip = new ZipOutputStream(counted)) {
                stored(zip, counted, ARCHIVE + "data.pkl", pickle, false);
                stored(zip, counted, ARCHIVE + "byteorder", "little".getBytes(StandardCharsets.US_ASCII), false);
                int i = 0;
                for (HostTensor t : tensors.values()) {
                    stored(zip, counted, ARCHIVE + "data/" + i++, littleEndian(t.data()), true);
                }
                stored(zip, counted, ARCHIVE + "version", "3\n".getBytes(StandardCharsets.US_ASCII), false);
            }
        });
    }

    private static byte[] littleEndian(float[] data) {
        ByteBuffer b = ByteBuffer.allocate(4 * data.length).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(data);
        return b.array();
    }

    /** One stored entry; {@code align} pads the local header's extra field so the data starts at a multiple of 64. */
    private static void stored(ZipOutputStream zip, CountingOutputStream counted, String name, byte[] data,
            boolean align) throws IOException {
        ZipEntry e = new ZipEntry(name);
        e.setMethod(ZipEntry.STORED);
        e.setTimeLocal(EPOCH);
        e.setSize(data.length);
        e.setCompressedSize(data.length);
        CRC32 crc = new CRC32();
        crc.update(data);
        e.setCrc(crc.getValue());
        if (align) {
            long headerEnd = counted.count + 30 + name.getBytes(StandardCharsets.UTF_8).length + 4;
            int pad = (int) ((ALIGN - headerEnd % ALIGN) % ALIGN);
            byte[] extra = new byte[4 + pad];
            extra[0] = 'F'; // id 0x4246 "FB", the padding field torch's writer uses
            extra[1] = 'B';
            extra[2] = (byte) pad;
            extra[3] = (byte) (pad >>> 8);
            e.setExtra(extra);
        }
        zip.putNextEntry(e);
        zip.write(data);
        zip.closeEntry();
    }

    private static final class CountingOutputStream extends FilterOutputStream {
        long count;

        CountingOutputStream(OutputStream out) {
            super(out);
        }

        @Override
        public void write(int b) throws IOException {
            out.write(b);
            count++;
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            out.write(b, off, len);
            count += len;
        }
    }

    // ---- pickle (protocol 2), mirroring what torch.save emits for an OrderedDict of tensors ----

    static byte[] pickle(Map<String, HostTensor> tensors) {
        Pickler p = new Pickler();
        p.op(0x80).op(2); // PROTO 2
        p.global("collections", "OrderedDict").op(')').op('R'); // OrderedDict()
        int i = 0;
        for (Map.Entry<String, HostTensor> e : tensors.entrySet()) {
            if (i % 1000 == 0) {
                if (i > 0) {
                    p.op('u'); // SETITEMS
                }
                p.op('('); // MARK
            }
            p.string(e.getKey());
            tensor(p, String.valueOf(i), e.getValue());
            i++;
        }
        if (i > 0) {
            p.op('u');
        }
        p.op('.'); // STOP
        return p.bytes();
    }

    /** _rebuild_tensor_v2(storage, 0, size, stride, False, OrderedDict()) */
    private static void tensor(Pickler p, String key, HostTensor t) {
        long[] shape = t.shape();
        long[] stride = new long[shape.length];
        long s = 1;
        for (int d = shape.length - 1; d >= 0; d--) {
            stride[d] = s;
            s *= shape[d];
        }
        p.global("torch._utils", "_rebuild_tensor_v2");
        p.op('('); // args
        p.op('('); // persistent id ('storage', torch.FloatStorage, key, 'cpu', numel)
        p.string("storage");
        p.global("torch", "FloatStorage");
        p.string(key);
        p.string("cpu");
        p.integer(t.numel());
        p.op('t').op('Q'); // TUPLE, BINPERSID
        p.integer(0); // storage offset
        p.tuple(shape);
        p.tuple(stride);
        p.op(0x89); // NEWFALSE: requires_grad
        p.global("collections", "OrderedDict").op(')').op('R'); // backward_hooks
        p.op('t').op('R'); // TUPLE, REDUCE
    }

    private static final class Pickler {
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();

        Pickler op(int b) {
            out.write(b);
            return this;
        }

        Pickler global(String module, String name) {
            op('c');
            out.writeBytes((module + "\n" + name + "\n").getBytes(StandardCharsets.US_ASCII));
            return this;
        }

        void string(String s) {
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            op('X'); // BINUNICODE
            int4(b.length);
            out.writeBytes(b);
        }

        void integer(long v) {
            if (v >= 0 && v < 256) {
                op('K').op((int) v);
            } else if (v >= 0 && v < 65536) {
                op('M').op((int) (v & 0xff)).op((int) (v >>> 8));
            } else if (v >= Integer.MIN_VALUE && v <= Integer.MAX_VALUE) {
                op('J');
                int4((int) v);
            } else {
                op(0x8a).op(8); // LONG1, 8 bytes two's complement little-endian
                for (int i = 0; i < 8; i++) {
                    op((int) ((v >>> (8 * i)) & 0xff));
                }
            }
        }

        void tuple(long[] values) {
            if (values.length == 0) {
                op(')');
                return;
            }
            if (values.length > 3) {
                op('(');
            }
            for (long v : values) {
                integer(v);
            }
            op(values.length == 1 ? 0x85 : values.length == 2 ? 0x86 : values.length == 3 ? 0x87 : 't');
        }

        private void int4(int v) {
            op(v & 0xff).op((v >>> 8) & 0xff).op((v >>> 16) & 0xff).op((v >>> 24) & 0xff);
        }

        byte[] bytes() {
            return out.toByteArray();
        }
    }
}
