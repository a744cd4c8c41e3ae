package com.loratool.io;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.loratool.LoraException;
import org.junit.jupiter.api.Test;

class MemoryBudgetTest {
    @Test
    void overTheLimitIsOneLineWithEstimateLimitAndOverride() {
        LoraException e = assertThrows(LoraException.class,
                () -> MemoryBudget.require("predict at 20006x20006", 3_100_000_000_000L, 21_000_000_000L,
                        "--no-memory-check"));
        assertEquals("predict at 20006x20006: needs about 3.1 TB of memory (estimate), 21.0 GB available;"
                + " use a smaller size or batch (--no-memory-check to try anyway)", e.getMessage());
        assertDoesNotThrow(() -> MemoryBudget.require("x", 10, 10, null));
    }

    @Test
    void thisMachineReportsABudget() {
        long a = MemoryBudget.availableBytes();
        assertTrue(a > 0, "available " + a);
    }
}
