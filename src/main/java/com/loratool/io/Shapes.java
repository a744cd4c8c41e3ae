package com.loratool.io;

import java.util.Arrays;

/**
 * Element counts of shapes read from files, in exact arithmetic: a header may declare any
 * numbers, so a product that overflows or a negative dimension is reported, never wrapped.
 */
public final class Shapes {
    private Shapes() {}

    /**
     * The number of elements of {@code shape} (1 for a scalar), or -1 if a dimension is negative
     * or the product does not fit in a long.
     */
    public static long numelOrMinusOne(long[] shape) {
        long n = 1;
        for (long d : shape) {
            if (d < 0) {
                return -1;
            }
            try {
                n = Math.multiplyExact(n, d);
            } catch (ArithmeticException e) {
                return -1;
            }
        }
        // a zero dimension makes the product 0 whatever the others are; still reject the others
        // being absurd only through their sign (checked above)
        return n;
    }

    /** Like {@link #numelOrMinusOne} but throws IllegalArgumentException (for trusted callers). */
    public static long numel(long[] shape) {
        long n = numelOrMinusOne(shape);
        if (n < 0) {
            throw new IllegalArgumentException("shape " + Arrays.toString(shape)
                    + " has a negative dimension or too many elements");
        }
        return n;
    }
}
