package com.loratool.data;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.loratool.LoraException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Intrinsics that are legal numbers but no camera's (issue 27, class 6): the rule (a field of view in
 * (1°, 179°) on each axis, the principal point at most one image size outside the image) by hand at
 * its edges, and every way intrinsics enter naming its source and the value.
 */
class CameraIntrinsicsTest {
    @TempDir
    Path dir;

    static String refusal(Runnable r) {
        String m = assertThrows(LoraException.class, r::run).getMessage();
        assertEquals(1, m.lines().count(), m);
        return m;
    }

    @Test
    void theRuleAtItsEdgesByHand() {
        // 640 x 480: fov = 2 atan(320 / fx) is 1° at fx = 320 / tan(0.5°) = 36666.6 and 179° at 320 / tan(89.5°) = 2.7925;
        // rows: 240 / tan(0.5°) = 27499.7 and 240 / tan(89.5°) = 2.0944
        assertDoesNotThrow(() -> new CameraIntrinsics(36_600, 27_400, 319.5, 239.5, 640, 480));
        assertDoesNotThrow(() -> new CameraIntrinsics(2.8, 2.1, 319.5, 239.5, 640, 480));
        assertThrows(IllegalArgumentException.class, () -> new CameraIntrinsics(36_700, 500, 319.5, 239.5, 640, 480));
        assertThrows(IllegalArgumentException.class, () -> new CameraIntrinsics(2.79, 500, 319.5, 239.5, 640, 480));
        assertThrows(IllegalArgumentException.class, () -> new CameraIntrinsics(500, 2.09, 319.5, 239.5, 640, 480));
        // the image spans -0.5 .. 639.5: cx may lie one width beyond either edge, -640.5 .. 1279.5
        assertDoesNotThrow(() -> new CameraIntrinsics(500, 500, -640.5, 719.5, 640, 480));
        assertDoesNotThrow(() -> new CameraIntrinsics(500, 500, 1279.5, -480.5, 640, 480));
        assertThrows(IllegalArgumentException.class, () -> new CameraIntrinsics(500, 500, 1279.6, 239.5, 640, 480));
        assertThrows(IllegalArgumentException.class, () -> new CameraIntrinsics(500, 500, 319.5, -480.6, 640, 480));
        // a grid of 0 x 0 is "unknown": the rule applies when the intrinsics meet an image
        assertDoesNotThrow(() -> new CameraIntrinsics(1e-300, 1e300, 1e9, -1e9, 0, 0));
        assertThrows(IllegalArgumentException.class, () -> new CameraIntrinsics(500, 500, 319.5, 239.5, 640, 0));
        assertThrows(IllegalArgumentException.class, () -> new CameraIntrinsics(500, 500, 319.5, 239.5, -640, -480));
    }

    @Test
    void onAnImageTheRefusalNamesTheSourceTheValueAndTheImage() {
        CameraIntrinsics k = CameraIntrinsics.parse("1e-300,1e-300,100,70");
        String m = refusal(() -> k.onGrid(210, 139, "--intrinsics 1e-300,1e-300,100,70 on image.png"));
        assertTrue(m.startsWith("--intrinsics 1e-300,1e-300,100,70 on image.png (210x139): fx 1e-300 gives a horizontal "
                + "field of view of 180°"), m);
        m = refusal(() -> CameraIntrinsics.parse("100,120,5000,30").onGrid(210, 139, "--intrinsics x"));
        assertTrue(m.contains("cx 5000") && m.contains("more than one image width"), m);
        m = refusal(() -> CameraIntrinsics.parse("1e300,120,100,30").onGrid(210, 139, "--intrinsics x"));
        assertTrue(m.contains("fx 1e+300 gives a horizontal field of view of 1.20321e-296° on 210 pixels"), m);
        // known grids resize without a change of field of view
        CameraIntrinsics r = new CameraIntrinsics(1000, 1000, 971.5, 599.5, 1944, 1200).onGrid(97, 60, "x");
        assertEquals(1000 * 97 / 1944.0, r.fx(), 1e-9);
    }

    @Test
    void nonFiniteOrNonPositiveValuesNameTheOptionAndTheValue() {
        for (String t : new String[] {"NaN,1,2,3", "1,Infinity,2,3", "1,1,-Infinity,3", "0,1,2,3", "1,-5,2,3"}) {
            String m = refusal(() -> CameraIntrinsics.parse(t));
            assertTrue(m.startsWith("--intrinsics " + t + ": f") || m.startsWith("--intrinsics " + t + ": c"), m);
            assertTrue(m.contains("must be"), m);
        }
    }

    @Test
    void aJsonFileIsCheckedOnItsOwnGridAndNamed() throws Exception {
        Path f = Files.writeString(dir.resolve("k.json"), "{\"fx\": 1e-300, \"fy\": 500, \"cx\": 319.5, \"cy\": 239.5,"
                + " \"width\": 640, \"height\": 480}");
        String m = refusal(() -> CameraIntrinsics.parseOrRead(f.toString()));
        assertTrue(m.startsWith(f + ": fx 1e-300 gives a horizontal field of view of 180°"), m);
        for (String wh : new String[] {"\"width\": 640", "\"width\": -640, \"height\": -480", "\"width\": 6.5, \"height\": 4",
            "\"width\": 1e12, \"height\": 480", "\"width\": \"640\", \"height\": 480"}) {
            Path g = Files.writeString(dir.resolve("g.json"), "{\"fx\": 500, \"fy\": 500, \"cx\": 319.5, \"cy\": 239.5, "
                    + wh + "}");
            m = refusal(() -> CameraIntrinsics.parseOrRead(g.toString()));
            assertTrue(m.startsWith(g + ": ") && (m.contains("width") || m.contains("height")), wh + ": " + m);
        }
    }

    @Test
    void aFitThatIsNoCameraIsRefusedNamingTheCloud() {
        // X grows a million times faster than a camera's: fx = 1e-6 over 40 columns
        int h = 30;
        int w = 40;
        float[] z = new float[h * w];
        java.util.Arrays.fill(z, 1000f);
        PointCloud c = PointCloud.fromDepth(z, h, w, new CameraIntrinsics(1e-6, 1e-6, 19.5, 14.5, 0, 0));
        String m = refusal(() -> IntrinsicsFit.of(c, Path.of("cloud.npy")));
        assertTrue(m.startsWith("cloud.npy: cannot fit intrinsics: fx 1e-06 gives a horizontal field of view of 180°"), m);
    }
}
