package com.loratool.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import java.nio.FloatBuffer;
import org.junit.jupiter.api.Test;

/** The DJL/PyTorch behaviours the trainer relies on (gradient accumulation, in-place updates, no leaks). */
class DjlMechanicsTest {
    @Test
    void gradientsAccumulateUntilZeroedAndUpdatesKeepTheLeaf() {
        try (NDManager base = NDManager.newBaseManager()) {
            NDArray w = base.create(new float[] {1, 2}, new Shape(2));
            w.setRequiresGradient(true);
            int before = base.getManagedArrays().size();
            for (int round = 0; round < 3; round++) {
                try (NDManager step = base.newSubManager()) {
                    NDArray x = step.create(new float[] {3, 4}, new Shape(2));
                    try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                        gc.backward(x.mul(w).sum()); // d/dw = x
                    }
                }
                try (NDArray g = w.getGradient()) {
                    assertArrayEquals(new float[] {3, 4}, g.toFloatArray()); // not 6, 8: zeroed below
                    g.muli(0f);
                }
                // in-place update from the host, as the optimiser does
                w.set(FloatBuffer.wrap(new float[] {1 + round, 2 + round}));
                assertTrue(w.hasGradient());
            }
            assertArrayEquals(new float[] {3, 4}, w.toFloatArray());
            assertEquals(before, base.getManagedArrays().size(), "arrays leaked into the base manager");
        }
    }
}
