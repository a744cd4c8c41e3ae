package com.loratool.eval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import com.loratool.data.Cv;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.opencv.core.CvType;
import org.opencv.core.Mat;
import org.opencv.core.Scalar;

class PredictionCacheTest {
    @BeforeAll
    static void opencv() {
        Cv.load();
    }

    @Test
    void computesOncePerWeightsSizeAndImage(@TempDir Path root) {
        AtomicInteger calls = new AtomicInteger();
        DepthModel m = s -> {
            calls.incrementAndGet();
            float[] p = new float[s.depth().length];
            p[1] = 42;
            return p;
        };
        EvalSample a = EvaluatorTest.sample("a", 8, 6);
        PredictionCache c = new PredictionCache(m, root, "0123456789abcdef0123", "518");
        assertEquals(42, c.predict(a)[1]);
        assertArrayEquals(c.predict(a), new PredictionCache(m, root, "0123456789abcdef0123", "518").predict(a));
        assertEquals(1, calls.get());
        new PredictionCache(m, root, "0123456789abcdef0123", "252").predict(a); // other input size
        new PredictionCache(m, root, "ffff456789abcdef0123", "518").predict(a); // other weights
        assertEquals(3, calls.get());
        EvalSample b = new EvalSample("a", null, new Mat(6, 8, CvType.CV_8UC3,
                new Scalar(1, 2, 3)), a.depth());
        assertNotEquals(PredictionCache.contentHash(a), PredictionCache.contentHash(b)); // other pixels
    }
}
