package com.loratool.data;

import com.loratool.config.DataConfig;
import com.loratool.config.Sizing;
import com.loratool.io.Npy;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import org.opencv.core.Core;
import org.opencv.imgproc.Imgproc;

/**
 * Hand-run benchmark: prepare one 1944x1200 XYZ .npy with ~30% NaN (read, take Z, fill holes,
 * resize to scale 10) on one core.
 *
 * <pre>java -XX:ActiveProcessorCount=1 -cp "target/lora.jar:target/lib/*" com.loratool.data.PrepareBenchmark</pre>
 */
public final class PrepareBenchmark {
    private PrepareBenchmark() {}

    public static void main(String[] args) throws Exception {
        Cv.load();
        Core.setNumThreads(1);
        int h = 1200;
        int w = 1944;
        Path tmp = Files.createTempDirectory("lora-bench");
        Path f = tmp.resolve("bench_rawDepth.npy");
        float[] xyz = new float[h * w * 3];
        Random r = new Random(1);
        // ~30% missing: random discs plus a ragged left band
        boolean[] hole = new boolean[h * w];
        for (int k = 0; k < 560; k++) {
            int cx = r.nextInt(w);
            int cy = r.nextInt(h);
            int rad = 5 + r.nextInt(30);
            for (int y = Math.max(0, cy - rad); y < Math.min(h, cy + rad); y++) {
                for (int x = Math.max(0, cx - rad); x < Math.min(w, cx + rad); x++) {
                    if ((x - cx) * (x - cx) + (y - cy) * (y - cy) < rad * rad) {
                        hole[y * w + x] = true;
                    }
                }
            }
        }
        int missing = 0;
        for (int i = 0; i < h * w; i++) {
            boolean miss = hole[i] || (i % w) < 80;
            missing += miss ? 1 : 0;
            xyz[3 * i] = miss ? Float.NaN : i % w;
            xyz[3 * i + 1] = miss ? Float.NaN : i / w;
            xyz[3 * i + 2] = miss ? Float.NaN : 900 + (i % 997) * 0.5f;
        }
        Npy.write(f, new long[] {h, w, 3}, xyz);
        DataConfig cfg = DataConfig.defaults(tmp).with("scale", 10);
        int n = 15;
        double[] ms = new double[n];
        double[] cpu = new double[n];
        ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        for (int it = 0; it < n; it++) {
            long c0 = mx.getCurrentThreadCpuTime();
            long t0 = System.nanoTime();
            DepthMap d = DepthReader.read(f, cfg);
            boolean[] mask = HoleFilling.fill(d.z(), h, w);
            Sizing.Size s = cfg.sizeRule().size(h, w);
            float[] z = SamplePreparer.resizeFloat(d.z(), h, w, s.height(), s.width(), Imgproc.INTER_NEAREST_EXACT);
            boolean[] m = SamplePreparer.resizeMask(mask, h, w, s.height(), s.width());
            ms[it] = (System.nanoTime() - t0) / 1e6;
            cpu[it] = (mx.getCurrentThreadCpuTime() - c0) / 1e6;
            if (z.length != m.length) {
                throw new IllegalStateException();
            }
        }
        double[] warm = Arrays.copyOfRange(ms, 5, n);
        Arrays.sort(warm);
        double[] warmCpu = Arrays.copyOfRange(cpu, 5, n);
        Arrays.sort(warmCpu);
        System.out.printf("1944x1200 XYZ .npy, %.1f%% NaN: read + Z + fill + resize to 140x84: first %.0f ms "
                + "(thread CPU %.0f ms), after warm-up median %.0f ms wall, %.0f ms thread CPU (min %.0f)%n",
                100.0 * missing / (h * w), ms[0], cpu[0], warm[warm.length / 2], warmCpu[warmCpu.length / 2], warmCpu[0]);
        Files.deleteIfExists(f);
        Files.deleteIfExists(tmp);
    }
}
