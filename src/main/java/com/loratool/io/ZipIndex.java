package com.loratool.io;

import com.loratool.LoraException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.Inflater;
import java.util.zip.InflaterInputStream;

/**
 * The central directory of a zip file read straight from a FileChannel (zip64 aware), so that
 * stored (uncompressed) entries can be memory-mapped instead of streamed: torch checkpoints keep
 * their tensor storages as stored entries, and the large ones are over a gigabyte.
 */
public final class ZipIndex {
    private static final int EOCD = 0x06054b50;
    private static final int EOCD64 = 0x06064b50;
    private static final int EOCD64_LOCATOR = 0x07064b50;
    private static final int CENTRAL = 0x02014b50;
    private static final int LOCAL = 0x04034b50;

    /** One entry: compression method (0 stored, 8 deflated), sizes, local header offset. */
    public record Entry(String name, int method, long compressedSize, long size, long localOffset) {}

    private final Path file;
    private final FileChannel ch;
    private final Map<String, Entry> entries = new LinkedHashMap<>();

    private ZipIndex(Path file, FileChannel ch) {
        this.file = file;
        this.ch = ch;
    }

    /** True if the channel starts with a zip local-file or end-of-directory signature. */
    public static boolean isZip(FileChannel ch) throws IOException {
        if (ch.size() < 4) {
            return false;
        }
        ByteBuffer b = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN);
        ch.read(b, 0);
        int sig = b.getInt(0);
        return sig == LOCAL || sig == EOCD;
    }

    /**
     * Reads the central directory of {@code ch} (which the caller keeps open and closes).
     * Throws LoraException naming {@code file} when the directory is damaged.
     */
    public static ZipIndex open(Path file, FileChannel ch) throws IOException {
        ZipIndex z = new ZipIndex(file, ch);
        z.readDirectory();
        return z;
    }

    public Map<String, Entry> entries() {
        return entries;
    }

    public Entry get(String name) {
        return entries.get(name);
    }

    private LoraException corrupt(String what) {
        return LoraException.file(file, "damaged zip archive (" + what + ")");
    }

    private ByteBuffer readAt(long pos, int len) throws IOException {
        if (pos < 0 || len < 0 || pos > ch.size() - len) {
            throw corrupt("truncated file");
        }
        ByteBuffer b = ByteBuffer.allocate(len).order(ByteOrder.LITTLE_ENDIAN);
        while (b.hasRemaining()) {
            int n = ch.read(b, pos + b.position());
            if (n < 0) {
                throw corrupt("truncated file");
            }
        }
        b.flip();
        return b;
    }

    private void readDirectory() throws IOException {
        long size = ch.size();
        if (size < 22) {
            throw corrupt("no end of central directory; truncated?");
        }
        int tail = (int) Math.min(size, 22 + 65535);
        ByteBuffer t = readAt(size - tail, tail);
        int eocd = -1;
        for (int i = tail - 22; i >= 0; i--) {
            if (t.getInt(i) == EOCD) {
                eocd = i;
                break;
            }
        }
        if (eocd < 0) {
            throw corrupt("no end of central directory; truncated?");
        }
        long eocdPos = size - tail + eocd;
        long count = t.getShort(eocd + 10) & 0xffff;
        long cdSize = t.getInt(eocd + 12) & 0xffffffffL;
        long cdOffset = t.getInt(eocd + 16) & 0xffffffffL;
        long cdEnd = eocdPos;
        if (count == 0xffff || cdSize == 0xffffffffL || cdOffset == 0xffffffffL) {
            if (eocdPos < 20) {
                throw corrupt("zip64 locator missing");
            }
            ByteBuffer loc = readAt(eocdPos - 20, 20);
            if (loc.getInt(0) != EOCD64_LOCATOR) {
                throw corrupt("zip64 locator missing");
            }
            long e64 = loc.getLong(8);
            ByteBuffer r = readAt(e64, 56);
            if (r.getInt(0) != EOCD64) {
                throw corrupt("bad zip64 end of central directory");
            }
            count = r.getLong(32);
            cdSize = r.getLong(40);
            cdOffset = r.getLong(48);
            cdEnd = e64;
        }
        // the directory lies between its offset and the end record; each entry takes >= 46 bytes
        if (cdSize < 0 || cdOffset < 0 || cdSize > cdEnd || cdOffset > cdEnd - cdSize) {
            throw corrupt("central directory of " + cdSize + " bytes at " + cdOffset
                    + " lies outside the file");
        }
        if (cdSize > Integer.MAX_VALUE) {
            throw corrupt("central directory too large");
        }
        if (count < 0 || count > cdSize / 46) {
            throw corrupt(count + " entries cannot fit a central directory of " + cdSize + " bytes");
        }
        ByteBuffer cd = readAt(cdOffset, (int) cdSize);
        int p = 0;
        for (long i = 0; i < count; i++) {
            if (p > cdSize - 46 || cd.getInt(p) != CENTRAL) {
                throw corrupt("bad central directory entry " + i);
            }
            int method = cd.getShort(p + 10) & 0xffff;
            long csize = cd.getInt(p + 20) & 0xffffffffL;
            long usize = cd.getInt(p + 24) & 0xffffffffL;
            int nameLen = cd.getShort(p + 28) & 0xffff;
            int extraLen = cd.getShort(p + 30) & 0xffff;
            int commentLen = cd.getShort(p + 32) & 0xffff;
            long local = cd.getInt(p + 42) & 0xffffffffL;
            long entryEnd = (long) p + 46 + nameLen + extraLen + commentLen;
            if (entryEnd > cdSize) {
                throw corrupt("central directory entry " + i + " runs past the directory");
            }
            byte[] nb = new byte[nameLen];
            cd.get(p + 46, nb);
            String name = new String(nb, StandardCharsets.UTF_8);
            // zip64 extra field: only the values that are 0xFFFFFFFF above, in this order
            int e = p + 46 + nameLen;
            int eEnd = e + extraLen;
            while (e + 4 <= eEnd) {
                int id = cd.getShort(e) & 0xffff;
                int len = cd.getShort(e + 2) & 0xffff;
                int fieldEnd = e + 4 + len;
                if (fieldEnd > eEnd) {
                    throw corrupt("extra field of entry " + Printable.of(name) + " runs past its end");
                }
                if (id == 0x0001) {
                    int q = e + 4;
                    if (usize == 0xffffffffL) {
                        usize = zip64Value(cd, q, fieldEnd, name);
                        q += 8;
                    }
                    if (csize == 0xffffffffL) {
                        csize = zip64Value(cd, q, fieldEnd, name);
                        q += 8;
                    }
                    if (local == 0xffffffffL) {
                        local = zip64Value(cd, q, fieldEnd, name);
                    }
                }
                e = fieldEnd;
            }
            if (csize < 0 || usize < 0 || local < 0 || local > size - 30 || csize > size) {
                throw corrupt("entry " + Printable.of(name) + " has sizes or an offset outside the file"
                        + " (offset " + local + ", " + csize + " bytes in a file of " + size + ")");
            }
            if (method == 0 && csize != usize) {
                throw corrupt("stored entry " + Printable.of(name) + " has " + csize
                        + " bytes but claims " + usize);
            }
            if (entries.put(name, new Entry(name, method, csize, usize, local)) != null) {
                throw corrupt("entry " + Printable.of(name) + " appears twice");
            }
            p = (int) entryEnd;
        }
    }

    private long zip64Value(ByteBuffer cd, int q, int fieldEnd, String name) {
        if (q + 8 > fieldEnd) {
            throw corrupt("zip64 field of entry " + Printable.of(name) + " is too short");
        }
        return cd.getLong(q);
    }

    /** Absolute position of the entry's data (after its local header). */
    public long dataStart(Entry e) throws IOException {
        ByteBuffer h = readAt(e.localOffset(), 30);
        if (h.getInt(0) != LOCAL) {
            throw corrupt("bad local header for " + Printable.of(e.name()));
        }
        int nameLen = h.getShort(26) & 0xffff;
        int extraLen = h.getShort(28) & 0xffff;
        long start = e.localOffset() + 30 + nameLen + extraLen;
        if (start > ch.size() || e.compressedSize() > ch.size() - start) {
            throw corrupt("entry " + Printable.of(e.name()) + " runs past the end of the file; truncated?");
        }
        return start;
    }

    /** Deflate produces at most about 1032 bytes per input byte; more is a lying size field. */
    private static final long MAX_DEFLATE_RATIO = 1032;

    /**
     * The entry's bytes, little-endian: a read-only memory map for stored entries, inflated into
     * memory for deflated ones. Sizes are checked against the file, so memory stays bounded by
     * the file's length (times deflate's largest ratio).
     */
    public ByteBuffer bytes(Entry e) throws IOException {
        long start = dataStart(e);
        String name = Printable.of(e.name());
        if (e.method() == 0) {
            if (e.size() > Integer.MAX_VALUE) {
                throw LoraException.file(file, "entry " + name + " too large (" + e.size() + " bytes)");
            }
            if (e.size() == 0) {
                return ByteBuffer.allocate(0).order(ByteOrder.LITTLE_ENDIAN);
            }
            return ch.map(FileChannel.MapMode.READ_ONLY, start, e.size()).order(ByteOrder.LITTLE_ENDIAN);
        }
        if (e.method() == 8) {
            if (e.size() > Integer.MAX_VALUE - 8 || e.compressedSize() > Integer.MAX_VALUE) {
                throw LoraException.file(file, "entry " + name + " too large");
            }
            if (e.size() > MAX_DEFLATE_RATIO * e.compressedSize() + 64) {
                throw corrupt("entry " + name + " claims " + e.size() + " bytes from " + e.compressedSize()
                        + " compressed, more than deflate can produce");
            }
            ByteBuffer comp = ch.map(FileChannel.MapMode.READ_ONLY, start, e.compressedSize());
            Inflater inf = new Inflater(true);
            try (InputStream in = new InflaterInputStream(new ByteBufferInput(comp), inf, 1 << 16)) {
                byte[] out = in.readNBytes((int) e.size());
                if (out.length != e.size() || in.read() >= 0) {
                    throw corrupt("entry " + name + " does not inflate to the " + e.size() + " bytes it claims");
                }
                return ByteBuffer.wrap(out).order(ByteOrder.LITTLE_ENDIAN);
            } catch (IOException x) {
                throw corrupt("entry " + name + " has bad deflate data (" + Printable.of(x.getMessage()) + ")");
            } finally {
                inf.end();
            }
        }
        throw LoraException.file(file, "entry " + name + " uses unsupported zip compression method " + e.method());
    }

    private static final class ByteBufferInput extends InputStream {
        private final ByteBuffer b;

        ByteBufferInput(ByteBuffer b) {
            this.b = b;
        }

        @Override
        public int read() {
            return b.hasRemaining() ? b.get() & 0xff : -1;
        }

        @Override
        public int read(byte[] dst, int off, int len) {
            if (!b.hasRemaining()) {
                return -1;
            }
            int n = Math.min(len, b.remaining());
            b.get(dst, off, n);
            return n;
        }
    }
}
