package com.loratool;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import org.junit.jupiter.api.Test;

class LoraExceptionTest {
    @Test
    void quotedUserTextCannotBreakTheOneLineError() {
        // a fuzzed config's target: lora.targets: [\r\r...g\r\rre:v]
        assertEquals("c.yaml: lora.targets: unknown target '??g??re:v'",
                new LoraException("c.yaml: lora.targets: unknown target '\r\ng\n\u2028re:v'").getMessage());
        assertEquals("a b", new LoraException("a\tb", new RuntimeException()).getMessage());
        String plain = "data/depth/a.npy: truncated .npy";
        assertSame(plain, new LoraException(plain).getMessage());
    }
}
