package com.loratool.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import com.loratool.io.Npy;
import com.loratool.io.NpyArray;
import com.loratool.model.weights.StateDicts;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** Forward parity with the official PyTorch model on fixtures made by make_fixture.py. */
class DepthAnythingV2ParityTest {

    static double forwardError(Path dir) {
        ModelConfig cfg = ModelConfig.fromYaml(dir.resolve("model.yaml"));
        try (NDManager base = NDManager.newBaseManager()) {
            DepthAnythingV2 model = new DepthAnythingV2(cfg, base);
            model.load(StateDicts.read(dir.resolve("weights.pth")));
            NpyArray want = Npy.read(dir.resolve("expected_raw.npy"));
            try (NDManager step = base.newSubManager()) {
                NDArray x = Fixtures.npy(step, dir.resolve("input_tensor.npy"));
                NDArray y = model.forward(x);
                assertArrayEquals(want.shape(), y.getShape().getShape());
                return Fixtures.relL2(y.toFloatArray(), want.data());
            }
        }
    }

    @Test
    void tinyForwardMatchesReference() {
        double err = forwardError(Fixtures.shared("da2-tiny"));
        System.out.println("da2-tiny forward relative L2 " + err);
        assertTrue(err < 1e-4, "relative L2 " + err);
    }

    @Test
    void nonSquareGridForwardMatchesReference() {
        // 7x5 patch grid: bicubic position interpolation on both axes with different factors
        double err = forwardError(Fixtures.local("da2-tiny-crop"));
        System.out.println("da2-tiny-crop forward relative L2 " + err);
        assertTrue(err < 1e-4, "relative L2 " + err);
    }

    @Test
    void channelsNotMultiplesOf16ForwardMatchesReference() {
        // tiny2: embed 64, 5 blocks, features 24, out_channels [12, 24, 48, 64], the stride-2 resize conv,
        // input 126x196: the shapes whose convolutions libtorch's oneDNN 3.7 gets wrong on some AMD CPUs
        double err = forwardError(Fixtures.shared("da2-tiny2"));
        System.out.println("da2-tiny2 forward relative L2 " + err);
        assertTrue(err < 1e-4, "relative L2 " + err);
    }

    @Test
    void channelsNotMultiplesOf16MetricForwardMatchesReference() {
        double err = forwardError(Fixtures.shared("da2-tiny2-metric"));
        System.out.println("da2-tiny2-metric forward relative L2 " + err);
        assertTrue(err < 1e-4, "relative L2 " + err);
    }
}
