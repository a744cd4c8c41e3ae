package com.loratool.model.weights;

import com.loratool.LoraException;
import com.loratool.io.Finite;
import com.loratool.io.InputFiles;
import com.loratool.io.DType;
import com.loratool.io.HostTensor;
import com.loratool.io.Printable;
import com.loratool.io.Shapes;
import com.loratool.io.ZipIndex;
import java.io.IOException;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads a PyTorch {@code state_dict} saved by {@code torch.save} (the zip format of torch ≥ 1.6):
 * {@code <archive>/data.pkl} is run through a small pickle VM ({@link Unpickler}) and each
 * tensor's storage {@code <archive>/data/<key>} is memory-mapped and decoded with its offset and
 * strides. FP32, FP16, BF16, FP64 (and integer) storages are widened to float. A state dict
 * wrapped as {@code {"model": sd}}, {@code {"state_dict": sd}} (and similar) is unwrapped.
 */
public final class PthReader {
    private static final List<String> WRAPPERS =
            List.of("model", "state_dict", "model_state_dict", "module", "net", "network", "ema");

    /** Largest tensor that may repeat (stride 0) a smaller storage: 16M values. */
    private static final long MAX_EXPANDED_VALUES = 1 << 24;

    private PthReader() {}

    /** Storage reference from a BINPERSID: dtype, entry key, element count. */
    record StorageRef(String key, DType dtype, String typeName, long numel) {}

    /** The tensors (file order) and the dtype each was stored with. */
    public record Contents(LinkedHashMap<String, HostTensor> tensors, Map<String, DType> dtypes) {}

    /** Reads the state dict, widened to float. */
    public static LinkedHashMap<String, HostTensor> read(Path file) {
        return readWithDtypes(file).tensors();
    }

    /** Reads the state dict and the stored dtype of each tensor. */
    public static Contents readWithDtypes(Path file) {
        InputFiles.regularFile(file);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            if (!ZipIndex.isZip(ch)) {
                throw LoraException.file(file, notZipReason(ch));
            }
            ZipIndex zip = ZipIndex.open(file, ch);
            String pkl = null;
            for (String name : zip.entries().keySet()) {
                if (name.equals("data.pkl") || name.endsWith("/data.pkl")) {
                    if (pkl == null || name.length() < pkl.length()) {
                        pkl = name;
                    }
                }
            }
            if (pkl == null) {
                throw LoraException.file(file, "zip archive without data.pkl: not a PyTorch checkpoint");
            }
            String prefix = pkl.substring(0, pkl.length() - "data.pkl".length());
            ZipIndex.Entry order = zip.get(prefix + "byteorder");
            if (order != null) {
                ByteBuffer ob = zip.bytes(order);
                byte[] ot = new byte[ob.remaining()];
                ob.get(ot);
                String bo = new String(ot, StandardCharsets.US_ASCII).trim();
                if (!bo.equals("little")) {
                    throw LoraException.file(file, "byte order '" + Printable.of(bo)
                            + "' is not supported (only little-endian checkpoints)");
                }
            }
            ByteBuffer pb = zip.bytes(zip.get(pkl));
            byte[] pickle = new byte[pb.remaining()];
            pb.get(pickle);
            Object top;
            try {
                top = new Unpickler(pickle, pid -> storageRef(file, pid)).load();
            } catch (Unpickler.PickleException e) {
                throw LoraException.file(file, e.getMessage() + " (in " + Printable.of(pkl) + ")");
            } catch (BufferUnderflowException e) {
                throw LoraException.file(file, "pickle truncated (in " + Printable.of(pkl) + ")");
            }
            Map<?, ?> sd = findStateDict(file, top, "", 0);
            Map<String, ByteBuffer> storages = new HashMap<>();
            LinkedHashMap<String, HostTensor> out = new LinkedHashMap<>();
            Map<String, DType> dtypes = new LinkedHashMap<>();
            for (Map.Entry<?, ?> e : sd.entrySet()) {
                String name = String.valueOf(e.getKey());
                String shown = Printable.of(name);
                Unpickler.TensorRef t = (Unpickler.TensorRef) e.getValue();
                if (!(t.storage() instanceof StorageRef s)) {
                    throw LoraException.file(file, "tensor '" + shown + "' has no storage in the archive");
                }
                ByteBuffer bytes = storages.get(s.key());
                if (bytes == null) {
                    ZipIndex.Entry entry = zip.get(prefix + "data/" + s.key());
                    if (entry == null) {
                        throw LoraException.file(file, "storage data/" + Printable.of(s.key()) + " of tensor '"
                                + shown + "' is missing from the archive");
                    }
                    bytes = zip.bytes(entry);
                    storages.put(s.key(), bytes);
                }
                out.put(name, materialize(file, shown, t, s, bytes));
                dtypes.put(name, s.dtype());
            }
            out.forEach((k, t) -> Finite.require(file, "tensor '" + Printable.of(k) + "'", t.data()));
            return new Contents(out, dtypes);
        } catch (NoSuchFileException e) {
            throw LoraException.file(file, "file not found");
        } catch (IOException e) {
            throw LoraException.file(file, "cannot read (" + e.getMessage() + ")", e);
        }
    }

    private static String notZipReason(FileChannel ch) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(2);
        ch.read(b, 0);
        if (b.position() == 2 && (b.get(0) & 0xff) == 0x80 && b.get(1) >= 2 && b.get(1) <= 5) {
            return "legacy (pre-1.6, non-zip) torch serialization is not supported; re-save it with "
                    + "torch.save(torch.load(f), f2) in torch >= 1.6";
        }
        return "not a zip archive, so not a PyTorch .pth checkpoint";
    }

    private static StorageRef storageRef(Path file, Object pid) {
        if (!(pid instanceof List<?> t) || t.size() < 5 || !"storage".equals(t.get(0))) {
            throw LoraException.file(file, "not a torch checkpoint (unexpected persistent id "
                    + Unpickler.describe(pid) + ")");
        }
        String type = t.get(1) instanceof Unpickler.Global g ? g.name()
                : t.get(1) instanceof String st ? st : Unpickler.describe(t.get(1));
        DType dt = storageDtype(type);
        if (dt == null) {
            throw LoraException.file(file, "unsupported dtype: torch." + Printable.of(type)
                    + " (supported: float32, float16, bfloat16, float64 and integer storages)");
        }
        if (!(t.get(2) instanceof String || t.get(2) instanceof Long)) {
            throw LoraException.file(file, "not a torch checkpoint (storage key is a "
                    + Unpickler.describe(t.get(2)) + ")");
        }
        long numel = t.get(4) instanceof Long l ? l : -1;
        return new StorageRef(String.valueOf(t.get(2)), dt, type, numel);
    }

    private static DType storageDtype(String type) {
        switch (type) {
            case "FloatStorage": return DType.F32;
            case "HalfStorage": return DType.F16;
            case "BFloat16Storage": return DType.BF16;
            case "DoubleStorage": return DType.F64;
            case "LongStorage": return DType.I64;
            case "IntStorage": return DType.I32;
            case "ShortStorage": return DType.I16;
            case "CharStorage": return DType.I8;
            case "ByteStorage": return DType.U8;
            case "BoolStorage": return DType.BOOL;
            default: return null;
        }
    }

    /** Finds the name → tensor map: the top dict itself, or one under a usual wrapper key. */
    private static Map<?, ?> findStateDict(Path file, Object top, String where, int depth) {
        if (depth > WRAPPERS.size()) {
            throw LoraException.file(file, "not a state_dict: wrappers nested too deep (" + where + ")");
        }
        if (!(top instanceof Map<?, ?> m)) {
            throw LoraException.file(file, "not a state_dict: the checkpoint holds a "
                    + Unpickler.describe(top) + (where.isEmpty() ? "" : " under " + where));
        }
        int tensors = 0;
        String nonTensor = null;
        for (Map.Entry<?, ?> e : m.entrySet()) {
            if (e.getValue() instanceof Unpickler.TensorRef) {
                tensors++;
            } else if (nonTensor == null) {
                nonTensor = String.valueOf(e.getKey());
            }
        }
        if (tensors > 0 && nonTensor == null) {
            return m;
        }
        for (String w : WRAPPERS) {
            Object inner = m.get(w);
            if (inner instanceof Map<?, ?>) {
                return findStateDict(file, inner, where + "['" + w + "']", depth + 1);
            }
        }
        if (tensors > 0) {
            throw LoraException.file(file, "not a state_dict: entry '" + Printable.of(nonTensor) + "'"
                    + (where.isEmpty() ? "" : " under " + where) + " is a "
                    + Unpickler.describe(m.get(nonTensor)) + ", not a tensor");
        }
        throw LoraException.file(file, "not a state_dict: no tensors"
                + (where.isEmpty() ? "" : " under " + where) + " (keys: " + preview(m.keySet()) + ")");
    }

    private static String preview(Collection<?> keys) {
        StringBuilder sb = new StringBuilder();
        int i = 0;
        for (Object k : keys) {
            if (i++ == 8) {
                sb.append(", ...");
                break;
            }
            sb.append(i > 1 ? ", " : "").append(Printable.of(k));
        }
        return sb.toString();
    }

    /** Decodes one tensor view (offset and strides in elements) into row-major floats. */
    private static HostTensor materialize(Path file, String name, Unpickler.TensorRef t, StorageRef s,
            ByteBuffer bytes) {
        DType dt = s.dtype();
        long[] size = t.size();
        long[] stride = t.stride();
        if (stride.length != size.length) {
            throw LoraException.file(file, "tensor '" + name + "' has " + size.length
                    + " sizes but " + stride.length + " strides");
        }
        long storageNumel = bytes.capacity() / dt.size();
        if (s.numel() >= 0 && s.numel() != storageNumel) {
            throw LoraException.file(file, "storage data/" + Printable.of(s.key()) + " holds " + storageNumel
                    + " values, the pickle says " + s.numel() + " (truncated?)");
        }
        long n = Shapes.numelOrMinusOne(size);
        if (n < 0) {
            throw LoraException.file(file, "tensor '" + name + "' has a bad size " + Arrays.toString(size));
        }
        // a view may repeat storage values (stride 0), but memory stays bounded by the file
        if (n > storageNumel && n > MAX_EXPANDED_VALUES) {
            throw LoraException.file(file, "tensor '" + name + "' " + Arrays.toString(size)
                    + " expands a storage of " + storageNumel + " values to " + n);
        }
        if (n > Integer.MAX_VALUE - 8) {
            throw LoraException.file(file, "tensor '" + name + "' too large (" + n + " values)");
        }
        if (n == 0) {
            return new HostTensor(size, new float[0]);
        }
        long last = t.offset();
        try {
            for (int i = 0; i < size.length; i++) {
                if (stride[i] < 0) {
                    throw LoraException.file(file, "tensor '" + name + "' has a negative stride");
                }
                last = Math.addExact(last, Math.multiplyExact(size[i] - 1, stride[i]));
            }
        } catch (ArithmeticException e) {
            last = Long.MAX_VALUE;
        }
        if (t.offset() < 0 || last >= storageNumel) {
            throw LoraException.file(file, "tensor '" + name + "' " + Arrays.toString(size)
                    + " reaches element " + (last == Long.MAX_VALUE ? "past 2^63" : String.valueOf(last))
                    + " of a storage of " + storageNumel);
        }
        float[] data = new float[(int) n];
        ByteBuffer b = bytes.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        int es = dt.size();
        if (isContiguous(size, stride)) {
            dt.decodeContiguous(b, (int) (t.offset() * es), data);
            return new HostTensor(size, data);
        }
        // general strided view: walk indices in row-major order
        int nd = size.length;
        long[] idx = new long[nd];
        long off = t.offset();
        for (int i = 0; i < data.length; i++) {
            data[i] = dt.get(b, (int) (off * es));
            for (int k = nd - 1; k >= 0; k--) {
                idx[k]++;
                off += stride[k];
                if (idx[k] < size[k]) {
                    break;
                }
                off -= stride[k] * idx[k];
                idx[k] = 0;
            }
        }
        return new HostTensor(size, data);
    }

    private static boolean isContiguous(long[] size, long[] stride) {
        long expect = 1;
        for (int i = size.length - 1; i >= 0; i--) {
            if (size[i] != 1 && stride[i] != expect) {
                return false;
            }
            expect *= size[i];
        }
        return true;
    }

    /** True if the file starts like a zip archive (cheap format sniffing). */
    static boolean looksLikeZip(Path file) {
        try (var in = Files.newInputStream(file)) {
            byte[] m = in.readNBytes(4);
            return m.length == 4 && m[0] == 'P' && m[1] == 'K' && m[2] == 3 && m[3] == 4;
        } catch (IOException e) {
            return false;
        }
    }

}
