package com.loratool.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.GradientCollector;
import java.nio.FloatBuffer;
import org.junit.jupiter.api.Test;

/** The DJL/PyTorch behaviours the trainer relies on (gradient accumulation, zeroing, in-place updates, no leaks). */
class DjlMechanicsTest {
    /** One forward/backward of sum(x * w) with x = (3, 4) in its own sub-manager: d/dw = x. */
    static void backward(NDManager base, NDArray w) {
        try (NDManager step = base.newSubManager()) {
            NDArray x = step.create(new float[] {3, 4}, new Shape(2));
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                gc.backward(x.mul(w).sum());
            }
        }
    }

    static float[] gradient(NDArray w) {
        try (NDArray g = w.getGradient()) {
            return g.toFloatArray();
        }
    }

    @Test
    void gradientsAccumulateAcrossBackwardPassesUntilZeroed() {
        try (NDManager base = NDManager.newBaseManager()) {
            NDArray w = base.create(new float[] {1, 2}, new Shape(2));
            w.setRequiresGradient(true);
            backward(base, w);
            assertArrayEquals(new float[] {3, 4}, gradient(w));
            backward(base, w); // no zeroing in between: a new collector must not reset .grad
            assertArrayEquals(new float[] {6, 8}, gradient(w), "second backward pass must add to the first");
            JniUtils.zeroGrad((PtNDArray) w); // what AdapterOptimizer.accumulate does
            assertArrayEquals(new float[] {0, 0}, gradient(w), "zeroGrad must reset the gradient");
            backward(base, w);
            assertArrayEquals(new float[] {3, 4}, gradient(w), "after zeroing, only the new pass counts");
        }
    }

    @Test
    void inPlaceUpdatesKeepTheLeafAndLeakNothing() {
        try (NDManager base = NDManager.newBaseManager()) {
            NDArray w = base.create(new float[] {1, 2}, new Shape(2));
            w.setRequiresGradient(true);
            int before = base.getManagedArrays().size();
            for (int round = 0; round < 3; round++) {
                backward(base, w);
                JniUtils.zeroGrad((PtNDArray) w);
                // in-place update from the host, as the optimiser does
                w.set(FloatBuffer.wrap(new float[] {1 + round, 2 + round}));
                assertTrue(w.hasGradient());
            }
            assertArrayEquals(new float[] {3, 4}, w.toFloatArray());
            backward(base, w);
            assertArrayEquals(new float[] {3, 4}, gradient(w), "the updated array is still the leaf being differentiated");
            assertEquals(before, base.getManagedArrays().size(), "arrays leaked into the base manager");
        }
    }
}
