package com.loratool.io;

import com.loratool.LoraException;
import java.nio.file.Path;

/**
 * The one finite-value check (docs/reliability.md): every tensor read (weights, adapters, PEFT
 * imports, checkpoints) and every tensor written (merged exports, adapters) passes here, so a NaN
 * or an infinity is refused in one line naming the file and the tensor instead of spreading.
 */
public final class Finite {
    private Finite() {}

    /** Index of the first NaN or infinity in {@code v}, or -1. */
    public static int firstNonFinite(float[] v) {
        for (int i = 0; i < v.length; i++) {
            if (!Float.isFinite(v[i])) {
                return i;
            }
        }
        return -1;
    }

    /** Throws naming {@code file}, {@code what} and the first bad value when {@code v} is not all finite. */
    public static void require(Path file, String what, float[] v) {
        int i = firstNonFinite(v);
        if (i >= 0) {
            int bad = 0;
            for (float x : v) {
                bad += Float.isFinite(x) ? 0 : 1;
            }
            throw LoraException.file(file, what + " holds " + bad + " non-finite value(s) of " + v.length
                    + " (first: " + v[i] + " at index " + i + ")");
        }
    }

    /** A finite scalar option value, else one line naming the option. */
    public static double option(String option, double value) {
        if (!Double.isFinite(value)) {
            throw new LoraException(option + " " + value + ": must be a finite number");
        }
        return value;
    }
}
