package com.loratool.model.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.pytorch.engine.PtNDManager;
import ai.djl.pytorch.engine.PtSymbolBlock;
import ai.djl.pytorch.jni.IValueUtils;
import ai.djl.pytorch.jni.JniUtils;
import com.loratool.LoraException;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.LocalDateTime;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/**
 * Multi-head self-attention from a fused {@code qkv} projection, computed by libtorch's
 * {@code torch.nn.functional.scaled_dot_product_attention} (on the CPU a flash-attention kernel:
 * blocked over keys, no N x N score matrix kept for the backward). DJL 0.35's JNI has no binding
 * for it, so this class writes a tiny TorchScript module (code only, no weights) and has DJL load
 * it; running it in DJL's training mode keeps autograd on, so gradients flow back into
 * {@code qkv} like through any other op.
 *
 * <p>The module computes exactly what DINOv2's {@code Attention} does between {@code qkv} and
 * {@code proj}: reshape (B,N,3*D) to (B,N,3,h,D/h), softmax(q k^T (D/h)^-0.5) v, back to (B,N,D).
 * q, k and v are taken with {@code unbind(2)} (as DINOv2's {@code MemEffAttention} does), not by
 * indexing: the backward of {@code unbind} is one {@code stack} straight into qkv's contiguous
 * layout, where three {@code select}s each allocated and zero-filled a full-size gradient, then
 * summed them and copied the permuted sum back to contiguous (~7 % of a 518x518 training step).
 *
 * <p>A TorchScript archive is a zip: {@code <name>/code/__torch__.py} (the class's TorchScript
 * source), {@code data.pkl} (the pickled module object: its class and its {@code training} flag),
 * {@code constants.pkl} (an empty tuple) and {@code version}.
 */
public final class FusedAttention {
    /** {@code -Dlora.attention=explicit}: matmul + softmax + matmul instead (for A/B measurements). */
    public static final boolean ENABLED = !"explicit".equals(System.getProperty("lora.attention"));

    private static final Map<Integer, PtSymbolBlock> MODULES = new ConcurrentHashMap<>();
    private static final LocalDateTime EPOCH = LocalDateTime.of(2000, 1, 1, 0, 0);
    private static final String CLASS = "MultiHeadSdpa";

    private FusedAttention() {}

    /** qkv (B,N,3*D) → attention output (B,N,D) with {@code heads} heads, in qkv's manager. */
    public static NDArray forward(NDArray qkv, int heads) {
        PtSymbolBlock module = MODULES.computeIfAbsent(heads, FusedAttention::load);
        // training mode = autograd on inside the module (DJL's inference mode would disable it)
        return IValueUtils.forward(module, new NDList(qkv), true).singletonOrThrow();
    }

    /** The TorchScript source of the module for {@code heads} heads. */
    static String source(int heads) {
        return "class " + CLASS + "(Module):\n"
                + "  __parameters__ = []\n"
                + "  __buffers__ = []\n"
                + "  training : bool\n"
                + "  def forward(self, qkv: Tensor) -> Tensor:\n"
                + "    b = qkv.size(0)\n"
                + "    n = qkv.size(1)\n"
                + "    d = qkv.size(2) // 3\n"
                + "    q, k, v = qkv.reshape([b, n, 3, " + heads + ", d // " + heads + "]).unbind(2)\n"
                + "    o = torch.scaled_dot_product_attention(q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2))\n"
                + "    return o.transpose(1, 2).reshape([b, n, d])\n";
    }

    /** The TorchScript archive (zip bytes) for {@code heads} heads. */
    static byte[] archive(int heads) {
        String dir = "sdpa" + heads + "/";
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ZipOutputStream zip = new ZipOutputStream(bytes)) {
            stored(zip, dir + "data.pkl", modulePickle());
            stored(zip, dir + "code/__torch__.py", source(heads).getBytes(StandardCharsets.UTF_8));
            stored(zip, dir + "constants.pkl", new byte[] {(byte) 0x80, 2, ')', '.'});
            stored(zip, dir + "version", "3\n".getBytes(StandardCharsets.US_ASCII));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    /** Protocol-2 pickle of {@code __torch__.MultiHeadSdpa} with state {@code {"training": True}}. */
    private static byte[] modulePickle() {
        ByteArrayOutputStream p = new ByteArrayOutputStream();
        p.write(0x80);
        p.write(2); // PROTO 2
        p.writeBytes(("c__torch__\n" + CLASS + "\n").getBytes(StandardCharsets.US_ASCII)); // GLOBAL
        p.write(')'); // EMPTY_TUPLE
        p.write(0x81); // NEWOBJ
        p.write('}'); // EMPTY_DICT
        byte[] key = "training".getBytes(StandardCharsets.US_ASCII);
        p.write('X'); // BINUNICODE
        p.write(key.length);
        p.write(0);
        p.write(0);
        p.write(0);
        p.writeBytes(key);
        p.write(0x88); // NEWTRUE
        p.write('s'); // SETITEM
        p.write('b'); // BUILD
        p.write('.'); // STOP
        return p.toByteArray();
    }

    private static void stored(ZipOutputStream zip, String name, byte[] data) throws IOException {
        ZipEntry e = new ZipEntry(name);
        e.setMethod(ZipEntry.STORED);
        e.setTimeLocal(EPOCH);
        e.setSize(data.length);
        e.setCompressedSize(data.length);
        CRC32 crc = new CRC32();
        crc.update(data);
        e.setCrc(crc.getValue());
        zip.putNextEntry(e);
        zip.write(data);
        zip.closeEntry();
    }

    private static PtSymbolBlock load(int heads) {
        try {
            // the module holds no tensors; a manager of its own keeps it for the process's lifetime
            PtNDManager owner = (PtNDManager) NDManager.newBaseManager("PyTorch");
            return JniUtils.loadModule(owner, new ByteArrayInputStream(archive(heads)), false, false);
        } catch (IOException | RuntimeException e) {
            throw new LoraException("fused attention: libtorch did not load the generated TorchScript module: "
                    + e.getMessage());
        }
    }
}
