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
    void overTheFreeHeapNamesTheSettingThatGivesMore() {
        LoraException e = assertThrows(LoraException.class,
                () -> MemoryBudget.requireHeap("export --format onnx at 518x518", 8_000_000_000L, 4_000_000_000L,
                        "--no-memory-check"));
        assertEquals("export --format onnx at 518x518: needs about 8.0 GB of Java heap (estimate), 4.0 GB free; give the"
                + " JVM more with LORA_JAVA_OPTS=\"-Xss4m -Xmx<size>\" or use a smaller size (--no-memory-check to try"
                + " anyway)", e.getMessage());
        assertDoesNotThrow(() -> MemoryBudget.requireHeap("x", 10, 10, null));
        assertTrue(MemoryBudget.heapAvailableBytes(0) > 0);
    }

    @Test
    void thisMachineReportsABudget() {
        long a = MemoryBudget.availableBytes();
        assertTrue(a > 0, "available " + a);
    }
}
