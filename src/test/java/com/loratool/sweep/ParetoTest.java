package com.loratool.sweep;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

class ParetoTest {
    @Test
    void handMadePoints() {
        //            A  B  C  D  E    F  G
        double[] x = {1, 2, 3, 4, 2.5, 1, Double.NaN};
        double[] y = {5, 3, 3, 1, 4, 5, 0};
        // C (3,3) is dominated by B (2,3), E (2.5,4) by B; A and F are equal (neither dominates); G has no x
        assertEquals(List.of(0, 1, 3, 5), Pareto.front(x, y));
    }

    @Test
    void onePointIsTheFrontAndAStrictlyBetterOneWins() {
        assertEquals(List.of(0), Pareto.front(new double[] {0.1}, new double[] {0.2}));
        assertEquals(List.of(1), Pareto.front(new double[] {0.2, 0.1}, new double[] {0.2, 0.2}));
    }
}
