package com.loratool.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

import com.loratool.train.ProcessMemory;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class BenchRunnerTest {
    /** A workload that records calls and sleeps in proportion to the images, no model needed. */
    static final class FakeFactory implements Workload.Factory {
        final List<String> calls = new ArrayList<>();
        int open;

        @Override
        public Workload open(BenchSettings s) {
            open++;
            calls.add("open " + s.images());
            return new Workload() {
                @Override
                public long trainableParams() {
                    return 8L * s.rank();
                }

                @Override
                public List<Double> trainEpochs(int epochs) {
                    List<Double> t = new ArrayList<>();
                    for (int e = 0; e < epochs; e++) {
                        calls.add("epoch");
                        long t0 = System.nanoTime();
                        sleep(2L * s.images());
                        t.add((System.nanoTime() - t0) / 1e9);
                    }
                    return t;
                }

                @Override
                public int inferAll() {
                    calls.add("infer");
                    sleep(s.images());
                    return s.images();
                }

                @Override
                public double beginInference() {
                    calls.add("merge");
                    return 0;
                }

                @Override
                public void endInference() {
                    calls.add("unmerge");
                }

                @Override
                public void close() {
                    open--;
                    calls.add("close");
                }
            };
        }

        @Override
        public String device() {
            return "cpu()";
        }
    }

    /** A workload whose epochs take the given seconds, one after the other. */
    static Workload scripted(double... seconds) {
        return new Workload() {
            int next;

            @Override
            public long trainableParams() {
                return 0;
            }

            @Override
            public List<Double> trainEpochs(int epochs) {
                List<Double> t = new ArrayList<>();
                for (int e = 0; e < epochs; e++) {
                    t.add(seconds[next++]);
                }
                return t;
            }

            @Override
            public int inferAll() {
                return 0;
            }

            @Override
            public void close() { }
        };
    }

    @Test
    void warmUpRunsUntilTwoConsecutiveEpochsAgreeWithinFivePercent() {
        assertEquals(4, BenchRunner.warmUp(scripted(3.0, 2.0, 1.5, 1.45, 1.0))); // 1.45 is within 5 % of 1.5
        assertEquals(2, BenchRunner.warmUp(scripted(1.0, 1.04, 9.0)));
        assertEquals(3, BenchRunner.warmUp(scripted(1.0, 1.06, 1.07)));
    }

    @Test
    void warmUpStopsAtTheCap() {
        assertEquals(BenchRunner.MAX_WARMUP, BenchRunner.warmUp(scripted(9, 7, 5, 3, 1, 0.5, 0.25)));
    }

    @Test
    void peakProbeMeasuresAPlausibleRate() {
        int n = 256;
        double g = PeakProbe.gflops(Device.cpu(), n, 3);
        // an independent timing of the same product, 2 n^3 FLOP by hand: the probe's best-of rate is at least
        // of its order (a FLOP count off by a factor n, or a timing of the wrong thing, falls far outside)
        double single;
        try (NDManager m = NDManager.newBaseManager(Device.cpu())) {
            NDArray a = m.randomUniform(-1, 1, new Shape(n, n));
            a.matMul(a).close();
            long t0 = System.nanoTime();
            try (NDArray c = a.matMul(a)) {
                c.get(0, 0).getFloat();
            }
            single = 2.0 * n * n * n / ((System.nanoTime() - t0) / 1e9) / 1e9;
        }
        assertTrue(g >= 0.25 * single, "probe " + g + " GFLOP/s, one timed product " + single + " GFLOP/s");
        // and no faster than the cores can be: 64 fp32 FLOP a cycle (AVX-512 FMA x2) at 6 GHz each
        double ceiling = Runtime.getRuntime().availableProcessors() * 6e9 * 64 / 1e9;
        assertTrue(g <= ceiling, "probe " + g + " GFLOP/s exceeds the machine's ceiling " + ceiling);
    }

    @Test
    void percentOfPeakFromFlopsPerImageAndImagesPerSecond() {
        BenchResult r = new BenchResult(BenchGrid.studyBaseline(), 25, 2, 4.0, List.of(3.0, 5.0), 0.5, 2.0, 0, 1, 1, 1,
                null, "cpu()", Double.NaN, new BenchResult.Efficiency(2, 240, 120, 150));
        assertEquals(120, r.trainGflops(), 1e-9); // 240 GFLOP per image at 0.5 img/s
        assertEquals(80, r.trainPercentOfPeak(), 1e-9);
        assertEquals(240, r.inferGflops(), 1e-9);
        assertEquals(160, r.inferPercentOfPeak(), 1e-9);
        assertEquals(3.0, r.epochSecondsMin());
        assertEquals(5.0, r.epochSecondsMax());
    }

    static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Test
    void warmUpThenMeasuredEpochsThenInferenceAndClosesEach() {
        FakeFactory f = new FakeFactory();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        BenchRunner runner = new BenchRunner(f, 25, 2, true, null, new PrintStream(err, true)).withPeak(100);
        List<BenchResult> rs = runner.run(BenchGrid.parse("images=5,20").combinations(BenchGrid.studyBaseline()));
        // 2..5 warm-up epochs (the fake's sleeps agree unless the machine is very busy), two measured
        String calls = String.join(",", f.calls);
        // the adapters are merged once, outside the timed pass (warm-up and timed inference between)
        assertTrue(calls.matches("open 5(,epoch){4,7},merge,infer,infer,unmerge,close,open 20(,epoch){4,7},merge,infer,"
                + "infer,unmerge,close"), calls);
        assertEquals(0, f.open);
        BenchResult r = rs.get(1);
        assertEquals(2, r.epochSecondsAll().size());
        assertTrue(r.epochSeconds() >= 0.040, "sleeps 40 ms per epoch: " + r.epochSeconds());
        assertEquals(25 * r.epochSeconds(), r.projectedSeconds(), 1e-12);
        assertEquals(20 / r.epochSeconds(), r.trainImagesPerS(), 1e-9);
        assertTrue(r.inferImagesPerS() > 0 && r.inferImagesPerS() <= 1000.0, "" + r.inferImagesPerS());
        assertEquals(64, r.trainableParams());
        assertTrue(r.peakRssMb() > 0 && r.rssStartMb() > 0, "Linux /proc figures");
        assertEquals("cpu()", r.device());
        assertTrue(Double.isNaN(r.peakGpuMb()) && !r.onGpu(), "no GPU memory figure on the CPU");
        String[] lines = err.toString().trim().split("\n");
        assertEquals(2, lines.length);
        assertTrue(lines[1].startsWith("[2/2] vits batch 4 84x140 20 images qkv: "), lines[1]);
        assertTrue(lines[1].contains("projected"), lines[1]);
    }

    @Test
    void median() {
        assertEquals(2.0, BenchRunner.median(List.of(3.0, 1.0, 2.0)));
        assertEquals(2.5, BenchRunner.median(List.of(4.0, 1.0, 2.0, 3.0)));
    }

    @Test
    void rssReadsProcAndPeakIsAtLeastCurrent() {
        double now = ProcessMemory.currentMb();
        assertTrue(now > 10, "a JVM holds more than 10 MiB: " + now);
        assertTrue(ProcessMemory.peakMb() >= now - 1, ProcessMemory.peakMb() + " vs " + now);
        assertEquals(123456L, ProcessMemory.parseKb("   123456 kB"));
    }
}
