package com.loratool.model.weights;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Pickles that build structures Python itself refuses end in a PickleException, not a crash. */
class UnpicklerLimitsTest {
    @Test
    void selfContainingListAsDictKeyIsRefused() {
        // d = {}; l = []; l.append(l); d[l] = 1  -- hashing l recursed forever before the fix
        byte[] p = {(byte) 0x80, 2, '}', ']', '2', 'a', 'K', 1, 's', '.'};
        Unpickler.PickleException e = assertThrows(Unpickler.PickleException.class,
                () -> new Unpickler(p, pid -> pid).load());
        assertTrue(e.getMessage().contains("dict key"), e.getMessage());
    }

    @Test
    void badNumbersInTextOpcodesArePickleErrors() {
        // INT "x\n" and GET "y\n": NumberFormatException before the fix
        byte[] i = {'I', 'x', '\n', '.'};
        assertThrows(Unpickler.PickleException.class, () -> new Unpickler(i, pid -> pid).load());
        byte[] g = {'g', 'y', '\n', '.'};
        assertThrows(Unpickler.PickleException.class, () -> new Unpickler(g, pid -> pid).load());
    }
}
