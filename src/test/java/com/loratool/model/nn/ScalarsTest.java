package com.loratool.model.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import org.junit.jupiter.api.Test;

class ScalarsTest {
    /** d(sum(x * 3 / 4))/dx = 0.75 everywhere, also when garbage collection runs before backward. */
    @Test
    void constantsSurviveGarbageCollectionBeforeBackward() {
        try (NDManager m = NDManager.newBaseManager()) {
            for (int round = 0; round < 20; round++) {
                try (NDManager step = m.newSubManager()) {
                    NDArray x = step.create(new float[] {1, -2, 3, 4});
                    x.setRequiresGradient(true);
                    try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                        NDArray y = Scalars.div(Scalars.mul(x, 3), 4).sum();
                        for (int i = 0; i < 3; i++) {
                            byte[][] garbage = new byte[256][];
                            for (int k = 0; k < garbage.length; k++) {
                                garbage[k] = new byte[4096];
                            }
                            System.gc();
                        }
                        gc.backward(y);
                    }
                    assertArrayEquals(new float[] {0.75f, 0.75f, 0.75f, 0.75f}, x.getGradient().toFloatArray(), 0f);
                }
            }
        }
    }
}
