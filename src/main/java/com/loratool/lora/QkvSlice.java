package com.loratool.lora;

import com.loratool.config.TargetSpec;
import com.loratool.io.HostTensor;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One of q, k, v of a fused {@code attn.qkv} Linear (rows: q, then k, then v, each a third of
 * the output), adapted on its own: target {@code qkv:q,v}. Its adapter name is the fused module's
 * name plus the part, {@code pretrained.blocks.0.attn.qkv.q}; its adapter acts on the part's rows
 * only (B is (D, r), the base weight block (D, in)). The one place that maps a slice name to its
 * module and rows.
 */
public record QkvSlice(String module, int part) {
    public static final List<String> PARTS = TargetSpec.SLICE_PARTS;
    private static final Pattern NAME = Pattern.compile("(.*\\.attn\\.qkv)\\.([qkv])");

    /** The slice an adapter name stands for, or null for a whole module. */
    public static QkvSlice parse(String adapted) {
        Matcher m = NAME.matcher(adapted);
        return m.matches() ? new QkvSlice(m.group(1), PARTS.indexOf(m.group(2))) : null;
    }

    /** The module an adapter name belongs to: the fused qkv for a slice, else the name itself. */
    public static String moduleOf(String adapted) {
        QkvSlice s = parse(adapted);
        return s == null ? adapted : s.module();
    }

    public String name() {
        return module + "." + PARTS.get(part);
    }

    /** First row of this part in a fused output of {@code fusedRows} rows. */
    public int offset(long fusedRows) {
        return (int) (fusedRows / 3 * part);
    }

    /** This part's rows of the fused weight (or bias). */
    public HostTensor rows(HostTensor fused) {
        long[] s = fused.shape().clone();
        if (s[0] % 3 != 0) {
            throw new IllegalArgumentException("fused qkv " + fused.shapeString() + " has rows not divisible by 3");
        }
        s[0] /= 3;
        int len = fused.data().length / 3;
        return new HostTensor(s, Arrays.copyOfRange(fused.data(), part * len, (part + 1) * len));
    }

    /** A copy of {@code fused} with this part's rows replaced by {@code block}. */
    public HostTensor withRows(HostTensor fused, HostTensor block) {
        int len = fused.data().length / 3;
        if (block.data().length != len) {
            throw new IllegalArgumentException("block " + block.shapeString() + " is not a third of " + fused.shapeString());
        }
        float[] d = fused.data().clone();
        System.arraycopy(block.data(), 0, d, part * len, len);
        return new HostTensor(fused.shape().clone(), d);
    }

    /** Shape of the fused weight a slice adapter whose block is {@code blockShape} belongs to. */
    public static long[] fusedShape(long[] blockShape) {
        long[] s = blockShape.clone();
        s[0] *= 3;
        return s;
    }
}
