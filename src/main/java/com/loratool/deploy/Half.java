package com.loratool.deploy;

/** IEEE 754 binary16 from float32, round to nearest even (Java 17 has no Float.floatToFloat16). */
final class Half {
    private Half() {}

    static short fromFloat(float f) {
        int bits = Float.floatToRawIntBits(f);
        int sign = (bits >>> 16) & 0x8000;
        int val = bits & 0x7fffffff;
        if (val > 0x7f800000) {
            return (short) (sign | 0x7e00); // NaN
        }
        int e = (val >>> 23) - 127 + 15;
        if (e >= 31) {
            return (short) (sign | 0x7c00); // overflow, infinity
        }
        if (e <= 0) { // subnormal half (or zero)
            if (e < -10) {
                return (short) sign;
            }
            int m = (val & 0x7fffff) | 0x800000;
            int shift = 14 - e;
            int h = m >> shift;
            int rem = m & ((1 << shift) - 1);
            int halfway = 1 << (shift - 1);
            if (rem > halfway || (rem == halfway && (h & 1) == 1)) {
                h++;
            }
            return (short) (sign | h);
        }
        int m = val & 0x7fffff;
        int h = (e << 10) | (m >>> 13);
        int rem = m & 0x1fff;
        if (rem > 0x1000 || (rem == 0x1000 && (h & 1) == 1)) {
            h++; // a carry into the exponent is the correct rounding (up to infinity)
        }
        return (short) (sign | h);
    }
}
