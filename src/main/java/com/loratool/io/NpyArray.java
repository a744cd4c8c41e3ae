package com.loratool.io;

import java.util.Arrays;

/**
 * An array read from a .npy file: row-major (C order) values widened to float, its shape and
 * the file's original dtype string (e.g. {@code "<f4"}, {@code "|b1"}).
 */
public record NpyArray(long[] shape, float[] data, String dtype) {
    public NpyArray {
        long n = Shapes.numelOrMinusOne(shape);
        if (n != data.length) {
            throw new IllegalArgumentException(
                    "shape " + Arrays.toString(shape) + " needs " + n + " values, got " + data.length);
        }
    }

    public long numel() {
        return data.length;
    }

    public String shapeString() {
        return Arrays.toString(shape);
    }
}
