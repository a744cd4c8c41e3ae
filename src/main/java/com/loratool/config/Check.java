package com.loratool.config;

import java.util.List;

/**
 * The range rules of a section's numbers, used by each section's constructor (the one place its
 * values are checked). Every number has a range and must be finite; a refusal is a
 * {@link ConfigError} naming the full key.
 */
final class Check {
    private Check() {}

    /** {@code v} in [min, max]. */
    static int in(String key, int v, int min, int max) {
        if (v < min || v > max) {
            throw new ConfigError(key, "must be in [" + min + ", " + max + "], got " + v);
        }
        return v;
    }

    /** {@code v} finite and in [min, max]. */
    static double in(String key, double v, double min, double max) {
        finite(key, v);
        if (v < min || v > max) {
            throw new ConfigError(key, "must be in [" + num(min) + ", " + num(max) + "], got " + num(v));
        }
        return v;
    }

    /** {@code v} finite and in (0, max]. */
    static double positive(String key, double v, double max) {
        finite(key, v);
        if (!(v > 0) || v > max) {
            throw new ConfigError(key, "must be > 0 and at most " + num(max) + ", got " + num(v));
        }
        return v;
    }

    /** {@code v} finite and in [0, 1). */
    static double fraction(String key, double v) {
        finite(key, v);
        if (v < 0 || v >= 1) {
            throw new ConfigError(key, "must be in [0, 1), got " + num(v));
        }
        return v;
    }

    static void finite(String key, double v) {
        if (!Double.isFinite(v)) {
            throw new ConfigError(key, "must be a finite number, got " + num(v));
        }
    }

    /** {@code ok}, else "{@code key}: {@code rule}, got {@code value}". */
    static void that(boolean ok, String key, String rule, Object value) {
        if (!ok) {
            throw new ConfigError(key, rule + ", got " + value);
        }
    }

    /** An unmodifiable copy, or {@code dflt} for null. */
    static <T> List<T> list(List<T> v, List<T> dflt) {
        return v == null ? dflt : List.copyOf(v);
    }

    private static String num(double v) {
        return v == Math.rint(v) && Math.abs(v) < 1e15 ? Long.toString((long) v) : Double.toString(v);
    }
}
