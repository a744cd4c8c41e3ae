package com.loratool.data;

import java.util.Random;

/**
 * How well {@link DepthCompletion} fills holes, measured where the answer is known: holes are
 * punched into measured areas ({@link #punchHoles}: seeded random discs), the prediction is
 * aligned to what is left, and the fill of the punched pixels is compared with the sensor's true
 * values, next to plain nearest-neighbour filling ({@link HoleFilling}) and the aligned
 * prediction alone.
 */
public final class CompletionEval {
    private CompletionEval() {}

    /** Error sums over filled pixels: |e| (mm), e^2 (mm^2), |e|/Z. */
    public record Errors(long n, double sumAbs, double sumSq, double sumRel) {
        public static final Errors NONE = new Errors(0, 0, 0, 0);

        public Errors plus(Errors o) {
            return new Errors(n + o.n, sumAbs + o.sumAbs, sumSq + o.sumSq, sumRel + o.sumRel);
        }

        public double maeMm() {
            return n == 0 ? Double.NaN : sumAbs / n;
        }

        public double rmseMm() {
            return n == 0 ? Double.NaN : Math.sqrt(sumSq / n);
        }

        public double absRel() {
            return n == 0 ? Double.NaN : sumRel / n;
        }

        static Errors of(float[] filled, float[] truth, boolean[] holes) {
            long n = 0;
            double a = 0, s = 0, r = 0;
            for (int i = 0; i < truth.length; i++) {
                if (holes[i]) {
                    double e = (double) filled[i] - truth[i];
                    n++;
                    a += Math.abs(e);
                    s += e * e;
                    r += Math.abs(e) / truth[i];
                }
            }
            return new Errors(n, a, s, r);
        }
    }

    /** The three fills' errors on the punched pixels. */
    public record Result(Errors completion, Errors nearest, Errors aligned) {
        public static final Result NONE = new Result(Errors.NONE, Errors.NONE, Errors.NONE);

        public Result plus(Result o) {
            return new Result(completion.plus(o.completion), nearest.plus(o.nearest), aligned.plus(o.aligned));
        }
    }

    /**
     * Holes among the measured pixels of {@code z}: discs with radius uniform in
     * {@code [0.02, 0.08] * min(h, w)} (at least 1 pixel) centred on random measured pixels, added
     * until they cover {@code fraction} of the measured pixels; only measured pixels are marked.
     * Deterministic for a seed.
     */
    public static boolean[] punchHoles(float[] z, int h, int w, double fraction, long seed) {
        if (!(fraction > 0 && fraction < 1)) {
            throw new IllegalArgumentException("hole fraction must be in (0, 1), got " + fraction);
        }
        int[] measured = new int[z.length];
        int m = 0;
        for (int i = 0; i < z.length; i++) {
            if (DepthMap.measured(z[i])) {
                measured[m++] = i;
            }
        }
        boolean[] holes = new boolean[z.length];
        long target = Math.round(fraction * m);
        long punched = 0;
        Random r = new Random(seed);
        int side = Math.min(h, w);
        while (punched < target) {
            int c = measured[r.nextInt(m)];
            double rad = Math.max(1.0, side * (0.02 + 0.06 * r.nextDouble()));
            int cu = c % w;
            int cv = c / w;
            int k = (int) Math.ceil(rad);
            for (int v = Math.max(0, cv - k); v <= Math.min(h - 1, cv + k) && punched < target; v++) {
                for (int u = Math.max(0, cu - k); u <= Math.min(w - 1, cu + k) && punched < target; u++) {
                    int i = v * w + u;
                    if ((u - cu) * (u - cu) + (v - cv) * (v - cv) <= rad * rad && !holes[i]
                            && DepthMap.measured(z[i])) {
                        holes[i] = true;
                        punched++;
                    }
                }
            }
        }
        return holes;
    }

    /**
     * Hides {@code holes} (measured pixels of {@code z}), aligns {@code pred} (disparity) to the rest
     * and scores the three fills of the hidden pixels against {@code z}.
     */
    public static Result evaluate(float[] pred, float[] z, boolean[] holes, int h, int w, boolean robust) {
        float[] hidden = z.clone();
        for (int i = 0; i < z.length; i++) {
            if (holes[i]) {
                if (!DepthMap.measured(z[i])) {
                    throw new IllegalArgumentException("hole at unmeasured pixel " + i);
                }
                hidden[i] = Float.NaN;
            }
        }
        float[] aligned = DepthCompletion.aligned(pred, hidden, robust);
        float[] completed = DepthCompletion.complete(aligned, hidden, h, w);
        float[] nearest = hidden.clone();
        HoleFilling.fill(nearest, h, w);
        return new Result(Errors.of(completed, z, holes), Errors.of(nearest, z, holes), Errors.of(aligned, z, holes));
    }
}
