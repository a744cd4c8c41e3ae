package com.loratool.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.loratool.LoraException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The rules of {@link BatchFailures} that are not one command's: what is never an input's failure, a batch of one. */
class BatchFailuresTest {
    static final Path A = Path.of("in/a.png");
    static final Path B = Path.of("in/b.png");

    @Test
    void aFailureIsRecordedWithItsFileAndTheBatchGoesOn() {
        BatchFailures f = new BatchFailures(false);
        assertFalse(f.attempt(A, () -> {
            throw LoraException.file(A, "cannot decode image");
        }));
        assertTrue(f.attempt(B, () -> { }));
        assertTrue(f.hasFailed(A));
        assertFalse(f.hasFailed(B));
        StringWriter err = new StringWriter();
        assertEquals(BatchFailures.EXIT_SOME_FAILED, f.finish("predict", 2, new PrintWriter(err)));
        assertEquals(List.of("error: predict: 1 of 2 input(s) failed (left out, the others were done):",
                "  " + A + ": cannot decode image"), err.toString().lines().toList());
    }

    @Test
    void anInterruptIsNeverAnInputsFailure() {
        BatchFailures f = new BatchFailures(false);
        Interrupts.Interrupted stop = new Interrupts.Interrupted("TERM", "interrupted (SIGTERM)");
        assertSame(stop, assertThrows(Interrupts.Interrupted.class, () -> f.attempt(A, () -> {
            throw stop;
        })));
        assertTrue(f.failures().isEmpty());
    }

    @Test
    void aLoopWithItsOwnRecordGetsTheReasonOrTheInterrupt() {
        // a sweep records its cells itself: the same rule, an interrupt is thrown, never a reason
        Interrupts.Interrupted stop = new Interrupts.Interrupted("TERM", "interrupted (SIGTERM) after epoch 0 of 3");
        assertSame(stop, assertThrows(Interrupts.Interrupted.class, () -> BatchFailures.reasonOf(stop)));
        LoraException cause = new LoraException("weights.pth: cannot build the model");
        assertSame(cause, assertThrows(LoraException.class,
                () -> BatchFailures.reasonOf(BatchFailures.stopsTheBatch(cause))));
        assertEquals("epoch 1: loss is NaN; training stopped", BatchFailures.reasonOf(
                new LoraException("epoch 1: loss is NaN; training stopped")));
        assertEquals("IllegalStateException: a b", BatchFailures.reasonOf(new IllegalStateException("a\nb")));
    }

    @Test
    void anErrorThatStopsTheBatchIsRethrownAsItselfWithoutFailFast() {
        BatchFailures f = new BatchFailures(false);
        LoraException cause = new LoraException("weights.pth: cannot build the model");
        assertSame(cause, assertThrows(LoraException.class, () -> f.attempt(A, () -> {
            throw BatchFailures.stopsTheBatch(cause);
        })));
        assertTrue(f.failures().isEmpty());
    }

    @Test
    void aBatchOfOneFailsFast() {
        LoraException e = LoraException.file(A, "cannot decode image");
        assertSame(e, assertThrows(LoraException.class, () -> BatchFailures.of(false, 1).attempt(A, () -> {
            throw e;
        })));
        assertFalse(BatchFailures.of(false, 2).attempt(A, () -> {
            throw e;
        }));
        assertThrows(LoraException.class, () -> BatchFailures.of(true, 2).attempt(A, () -> {
            throw e;
        }));
    }
}
