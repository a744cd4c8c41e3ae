package com.loratool.sweep;

import java.util.ArrayList;
import java.util.List;

/**
 * The Pareto front of points where both coordinates are better lower (in-domain AbsRel, retention
 * AbsRel): a point is on the front when no other point is at least as good in both and strictly
 * better in one. Non-finite points are never on it.
 */
public final class Pareto {
    private Pareto() {}

    /** Indices of the points on the front, in input order. */
    public static List<Integer> front(double[] x, double[] y) {
        List<Integer> out = new ArrayList<>();
        for (int i = 0; i < x.length; i++) {
            if (!Double.isFinite(x[i]) || !Double.isFinite(y[i])) {
                continue;
            }
            boolean dominated = false;
            for (int j = 0; j < x.length && !dominated; j++) {
                if (j != i && Double.isFinite(x[j]) && Double.isFinite(y[j])) {
                    dominated = x[j] <= x[i] && y[j] <= y[i] && (x[j] < x[i] || y[j] < y[i]);
                }
            }
            if (!dominated) {
                out.add(i);
            }
        }
        return out;
    }
}
