package com.loratool.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.loratool.model.Fixtures;
import com.loratool.data.CameraIntrinsics;
import com.loratool.data.PointCloud;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code --intrinsics} that are legal numbers but no camera's (issue 27, class 6: fx = 1e-300 gave a
 * 1-point cloud with exit 0): refused in one line naming the option or file and the value, before
 * anything is written, wherever intrinsics enter.
 */
class AbsurdIntrinsicsTest {
    static final Path METRIC = Fixtures.shared("da2-tiny-metric"); // image.png is 210 x 139

    @TempDir
    Path tmp;

    private record Run(int rc, String err) {}

    private static Run run(String... args) {
        StringWriter err = new StringWriter();
        CommandLine cl = Main.commandLine();
        cl.setOut(new PrintWriter(new StringWriter(), true));
        cl.setErr(new PrintWriter(err, true));
        return new Run(cl.execute(args), err.toString().strip());
    }

    private Run predict(Path out, String... more) {
        List<String> a = new ArrayList<>(List.of("predict", "--weights", METRIC.resolve("weights.pth").toString(),
                "--model-config", METRIC.resolve("model.yaml").toString(), "--input", METRIC.resolve("image.png").toString(),
                "--output", out.toString(), "--input-size", "98", "--device", "cpu", "--point-cloud"));
        a.addAll(Arrays.asList(more));
        return run(a.toArray(String[]::new));
    }

    private static void refusedInOneLine(Run r, String start, Path out) {
        assertEquals(2, r.rc(), r.err());
        assertEquals(1, r.err().lines().count(), r.err());
        assertTrue(r.err().startsWith(start), r.err());
        assertFalse(Files.exists(out), "nothing written: " + out);
    }

    @Test
    void predictRefusesAbsurdIntrinsicsBeforeWriting() {
        String[][] cases = {
            {"1e-300,1e-300,100,70", "fx 1e-300 gives a horizontal field of view of 180°"},
            {"1e300,1e300,100,70", "fx 1e+300 gives a horizontal field of view of"},
            {"100,1e-9,100,70", "fy 1e-09 gives a vertical field of view of 180°"},
            {"100,120,5000,30", "cx 5000"},
            {"100,120,100,-1e6", "cy -1e+06"},
        };
        int i = 0;
        for (String[] c : cases) {
            Path out = tmp.resolve("o" + i++);
            Run r = predict(out, "--intrinsics", c[0]);
            refusedInOneLine(r, "error: --intrinsics " + c[0] + " on image.png (210x139): ", out);
            assertTrue(r.err().contains(c[1]), r.err());
        }
    }

    @Test
    void predictRefusesAnAbsurdIntrinsicsFileNamingIt() throws Exception {
        Path k = Files.writeString(tmp.resolve("k.json"), "{\"fx\": 1e-300, \"fy\": 1e-300, \"cx\": 100, \"cy\": 70}");
        Path out = tmp.resolve("o");
        refusedInOneLine(predict(out, "--intrinsics", k.toString()), "error: --intrinsics " + k + " on image.png (210x139): "
                + "fx 1e-300 gives", out);
        Path sized = Files.writeString(tmp.resolve("s.json"), "{\"fx\": 100, \"fy\": 100, \"cx\": 100, \"cy\": 70,"
                + " \"width\": 210, \"height\": -139}");
        refusedInOneLine(predict(out, "--intrinsics", sized.toString()), "error: " + sized + ": ", out);
    }

    @Test
    void aCloudWhoseFitIsNoCameraIsRefusedByDataIntrinsicsAndIntrinsicsFrom() {
        int h = 30;
        int w = 40;
        float[] z = new float[h * w];
        Arrays.fill(z, 1000f);
        Path cloud = tmp.resolve("cloud.npy");
        PointCloud.fromDepth(z, h, w, new CameraIntrinsics(1e-6, 1e-6, 19.5, 14.5, 0, 0)).writeNpy(cloud);
        Path json = tmp.resolve("k.json");
        Run r = run("data", "intrinsics", "--data", cloud.toString(), "--json", json.toString());
        refusedInOneLine(r, "error: " + cloud + ": cannot fit intrinsics: fx 1e-06 gives a horizontal field of view", json);
        Path out = tmp.resolve("o");
        refusedInOneLine(predict(out, "--intrinsics-from", cloud.toString()), "error: " + cloud + ": cannot fit intrinsics: ",
                out);
    }

    @Test
    void aCameraStillWorks() {
        Path out = tmp.resolve("o");
        Run r = predict(out, "--intrinsics", "100,120,40.5,30");
        assertEquals(0, r.rc(), r.err());
        assertTrue(Files.exists(out.resolve("image.ply")));
    }
}
