package com.loratool.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
        BenchRunner runner = new BenchRunner(f, 25, 2, true, null, new PrintStream(err, true));
        List<BenchResult> rs = runner.run(BenchGrid.parse("images=5,20").combinations(BenchGrid.studyBaseline()));
        assertEquals(List.of("open 5", "epoch", "epoch", "epoch", "infer", "infer", "close",
                "open 20", "epoch", "epoch", "epoch", "infer", "infer", "close"), f.calls);
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
