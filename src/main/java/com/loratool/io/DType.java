package com.loratool.io;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Element types found in .npy, safetensors and torch files, and how to widen each to float.
 * Half types are decoded in Java (Java 17 has no Float.float16ToFloat; DJL cannot hold BF16).
 */
public enum DType {
    F64(8), F32(4), F16(2), BF16(2), I64(8), I32(4), I16(2), U16(2), I8(1), U8(1), BOOL(1);

    private final int size;

    DType(int size) {
        this.size = size;
    }

    /** Bytes per element. */
    public int size() {
        return size;
    }

    /** Reads the element at absolute byte position {@code pos} of {@code b} (in b's byte order). */
    public float get(ByteBuffer b, int pos) {
        switch (this) {
            case F32: return b.getFloat(pos);
            case F64: return (float) b.getDouble(pos);
            case F16: return halfToFloat(b.getShort(pos));
            case BF16: return bf16ToFloat(b.getShort(pos));
            case I64: return (float) b.getLong(pos);
            case I32: return (float) b.getInt(pos);
            case I16: return b.getShort(pos);
            case U16: return b.getShort(pos) & 0xffff;
            case I8: return b.get(pos);
            case U8: return b.get(pos) & 0xff;
            case BOOL: return b.get(pos) != 0 ? 1f : 0f;
            default: throw new AssertionError(this);
        }
    }

    /**
     * Decodes {@code out.length} consecutive elements starting at absolute byte {@code pos}.
     * Fast path for F32 through a FloatBuffer view.
     */
    public void decodeContiguous(ByteBuffer b, int pos, float[] out) {
        if (this == F32) {
            ByteBuffer d = b.duplicate().order(b.order());
            d.position(pos);
            d.slice().order(b.order()).asFloatBuffer().get(out);
            return;
        }
        for (int i = 0, p = pos; i < out.length; i++, p += size) {
            out[i] = get(b, p);
        }
    }

    /** IEEE 754 binary16 bits to float (exact). */
    public static float halfToFloat(short h) {
        int bits = h & 0xffff;
        int sign = (bits & 0x8000) << 16;
        int exp = (bits >>> 10) & 0x1f;
        int mant = bits & 0x3ff;
        if (exp == 0x1f) {
            return Float.intBitsToFloat(sign | 0x7f800000 | (mant << 13));
        }
        if (exp == 0) {
            if (mant == 0) {
                return Float.intBitsToFloat(sign);
            }
            float v = mant * 0x1p-24f; // subnormal: mant * 2^-24
            return sign != 0 ? -v : v;
        }
        return Float.intBitsToFloat(sign | ((exp + 112) << 23) | (mant << 13));
    }

    /** bfloat16 bits to float (exact: the top half of a float). */
    public static float bf16ToFloat(short h) {
        return Float.intBitsToFloat((h & 0xffff) << 16);
    }

    /** Little-endian view helper. */
    public static ByteBuffer le(ByteBuffer b) {
        return b.order(ByteOrder.LITTLE_ENDIAN);
    }
}
