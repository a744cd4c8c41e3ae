package com.loratool.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.loratool.io.Npy;
import com.loratool.io.NpyArray;
import java.nio.file.Path;
import java.nio.file.Paths;

/** Test helpers: fixture paths, .npy as NDArray, relative L2 error. */
public final class Fixtures {
    private Fixtures() {}

    /** A fixture folder (fixtures/NAME, committed; -Dfixtures.dir overrides). */
    public static Path shared(String name) {
        return Paths.get(System.getProperty("fixtures.dir", "fixtures")).resolve(name);
    }

    /** A fixture committed under src/test/resources/fixtures/NAME. */
    public static Path local(String name) {
        return Paths.get("src/test/resources/fixtures").resolve(name);
    }

    public static NDArray npy(NDManager m, Path file) {
        NpyArray a = Npy.read(file);
        return m.create(a.data(), new Shape(a.shape()));
    }

    public static double relL2(float[] got, float[] want) {
        if (got.length != want.length) {
            throw new AssertionError("length " + got.length + " vs " + want.length);
        }
        double num = 0;
        double den = 0;
        for (int i = 0; i < got.length; i++) {
            double d = got[i] - want[i];
            num += d * d;
            den += (double) want[i] * want[i];
        }
        return Math.sqrt(num / den);
    }
}
