package com.loratool.io;

import java.util.Arrays;

/**
 * A float32 tensor held in Java memory, row-major (C order): what checkpoint readers produce
 * and writers consume, independent of any engine. Half-precision storages are widened to float
 * on reading (DJL cannot hold BF16 safely).
 */
public record HostTensor(long[] shape, float[] data) {
    public HostTensor {
        long n = numel(shape);
        if (n != data.length) {
            throw new IllegalArgumentException(
                    "shape " + Arrays.toString(shape) + " needs " + n + " values, got " + data.length);
        }
    }

    /** Element count; IllegalArgumentException for a negative dimension or an overflowing product. */
    public static long numel(long[] shape) {
        return Shapes.numel(shape);
    }

    public long numel() {
        return data.length;
    }

    public String shapeString() {
        return Arrays.toString(shape);
    }
}
