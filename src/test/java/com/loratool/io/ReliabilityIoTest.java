package com.loratool.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.loratool.LoraException;
import com.loratool.model.weights.StateDicts;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Issue 21 in io: the output guard, input files, safetensors layout rules, finite values, interrupts, locks. */
class ReliabilityIoTest {
    @TempDir
    Path tmp;

    @AfterEach
    void reset() {
        Interrupts.resetForTest(code -> { }, System.err);
        FolderLock.forceUnlock(false);
        FolderLock.warningsTo(System.err);
    }

    private static String refusal(Runnable r) {
        return assertThrows(LoraException.class, r::run).getMessage();
    }

    // ---- OutputGuard

    @Test
    void outputGuardRefusesSameFileInsideContainsAndRunFolders() throws Exception {
        Path in = Files.createDirectories(tmp.resolve("in"));
        Path file = Files.writeString(in.resolve("w.pth"), "x");
        assertTrue(refusal(() -> OutputGuard.of("--output", in).input("--input", in).check()).contains("is the input"));
        assertTrue(refusal(() -> OutputGuard.of("--output", in.resolve("sub/new")).input("--input", in).check())
                .contains("lies inside the input"));
        assertTrue(refusal(() -> OutputGuard.of("--output", tmp).input("--input", in).check())
                .contains("contains the input"));
        Path link = Files.createSymbolicLink(tmp.resolve("link"), in);
        assertTrue(refusal(() -> OutputGuard.of("--output", link.resolve("w.pth")).input("--weights", file).check())
                .contains("is the input --weights"));
        Path hard = Files.createLink(tmp.resolve("hard.pth"), file);
        assertTrue(refusal(() -> OutputGuard.of("--output", hard).input("--weights", file).check())
                .contains("is the input --weights"), "same file by file key");
        Path run = Files.createDirectories(tmp.resolve("run"));
        Files.writeString(run.resolve("config.yaml"), "");
        Files.writeString(run.resolve("metrics.csv"), "");
        assertTrue(refusal(() -> OutputGuard.of("--output", run).check()).contains("is a training run folder"));
        OutputGuard.of("--output", run).owns(run).check();
        OutputGuard.of("--output", run.resolve("eval")).input("--input", file).check(); // beside: fine
        OutputGuard.of("--output", tmp.resolve("elsewhere")).input("--input", in).input("--none", null).check();
        assertTrue(refusal(() -> OutputGuard.ofFolder("--output", file).check()).contains("is not a folder"));
    }

    // ---- InputFiles

    @Test
    void aFifoAsWeightsIsRefusedWithoutOpeningIt() throws Exception {
        Path fifo = tmp.resolve("weights.pth");
        Process p = new ProcessBuilder("mkfifo", fifo.toString()).start();
        assertEquals(0, p.waitFor());
        String msg = assertTimeoutPreemptively(Duration.ofSeconds(10), () -> refusal(() -> StateDicts.read(fifo)));
        assertTrue(msg.contains("special file") && msg.contains("not a regular file"), msg);
        msg = assertTimeoutPreemptively(Duration.ofSeconds(10), () -> refusal(() -> Safetensors.read(fifo)));
        assertTrue(msg.contains("not a regular file"), msg);
        assertTrue(refusal(() -> InputFiles.regularFile(tmp)).contains("is a folder"));
        assertTrue(refusal(() -> InputFiles.folder(fifo)).contains("not a folder"));
        assertTrue(refusal(() -> InputFiles.regularFile(tmp.resolve("none"))).contains("file not found"));
    }

    // ---- safetensors layout, as the reference reader checks it

    /** A safetensors file with this header JSON and {@code dataLen} zero bytes of data. */
    static byte[] file(String header, int dataLen) {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + h.length + dataLen).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(h.length).put(h);
        return b.array();
    }

    private String read(byte[] bytes) throws Exception {
        Path f = Files.write(tmp.resolve("t.safetensors"), bytes);
        return refusal(() -> Safetensors.read(f));
    }

    static final String A = "\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[%d,%d]}";
    static final String B = "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[%d,%d]}";

    @Test
    void safetensorsLayoutRulesOfTheReferenceReader() throws Exception {
        // valid: contiguous, in any header order
        Path ok = Files.write(tmp.resolve("ok.safetensors"),
                file("{" + String.format(B, 8, 16) + "," + String.format(A, 0, 8) + "}", 16));
        assertEquals(2, Safetensors.read(ok).size());
        assertTrue(read(file("{" + String.format(A, 0, 8) + "," + String.format(B, 4, 12) + "}", 16))
                .contains("overlaps"));
        assertTrue(read(file("{" + String.format(A, 0, 8) + "," + String.format(B, 0, 8) + "}", 8))
                .contains("overlap"));
        assertTrue(read(file("{" + String.format(A, 0, 8) + "," + String.format(B, 12, 20) + "}", 20))
                .contains("not contiguous"));
        assertTrue(read(file("{" + String.format(A, 0, 8) + "}", 12)).contains("cover 8 of the 12"));
        assertTrue(read(file("{" + String.format(A, 0, 8) + "," + String.format(A, 8, 16) + "}", 16))
                .contains("names a tensor twice"));
        assertTrue(read(file("{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 8))
                .contains("8 bytes for 3 values"));
    }

    @Test
    void nonFiniteTensorsAreRefusedReadAndWritten() throws Exception {
        byte[] f = file("{" + String.format(A, 0, 8) + "}", 8);
        ByteBuffer.wrap(f).order(ByteOrder.LITTLE_ENDIAN).putFloat(f.length - 4, Float.POSITIVE_INFINITY);
        assertTrue(read(f).contains("tensor 'a' holds 1 non-finite value(s) of 2"), read(f));
        Path out = tmp.resolve("w.safetensors");
        String msg = refusal(() -> Safetensors.write(out, Map.of("x", new HostTensor(new long[] {1},
                new float[] {Float.NaN})), null));
        assertTrue(msg.contains("non-finite"), msg);
        assertFalse(Files.exists(out));
        assertTrue(refusal(() -> Finite.option("--alpha-scale", Double.NaN)).contains("must be a finite number"));
    }

    // ---- interrupts

    @Test
    void aSignalOutsideCooperativeWorkRemovesTempFilesReleasesLocksAndHalts() throws Exception {
        List<Integer> halted = new ArrayList<>();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        Interrupts.resetForTest(halted::add, new PrintStream(err, true));
        Path dir = tmp.resolve("run");
        FolderLock lock = FolderLock.acquire(dir, "test");
        Path tmpFile = dir.resolve("x.pth.tmp");
        // the test's halt returns, so the write then finds its temp file gone
        assertThrows(LoraException.class, () -> AtomicFiles.write(dir.resolve("x.pth"), out -> {
            out.write(1);
            out.flush();
            assertTrue(Files.exists(tmpFile));
            Interrupts.handle("TERM"); // as if SIGTERM arrived mid-write
            assertFalse(Files.exists(tmpFile), "temp file removed before the halt");
        }));
        assertEquals(List.of(143), halted);
        assertFalse(Files.exists(dir.resolve(FolderLock.FILE)), "lock released");
        assertTrue(err.toString().startsWith("interrupted (SIGTERM)"), err.toString());
        lock.close();
    }

    @Test
    void aSignalDuringCooperativeWorkStopsAtTheNextSafePointOnTheWorkingThread() {
        List<Integer> halted = new ArrayList<>();
        Interrupts.resetForTest(halted::add, new PrintStream(new ByteArrayOutputStream()));
        Interrupts.Interrupted stop;
        try (Interrupts.Scope coop = Interrupts.cooperate()) {
            Interrupts.checkpoint(() -> "never");
            Interrupts.handle("INT");
            assertTrue(halted.isEmpty(), "nothing is stopped or freed from the signal's thread");
            stop = assertThrows(Interrupts.Interrupted.class, () -> Interrupts.checkpoint(() -> "after epoch 7 of 20"));
            Interrupts.handle("INT"); // a second signal stops at once
        }
        assertEquals("interrupted (SIGINT) after epoch 7 of 20", stop.getMessage());
        assertEquals(130, stop.exitCode());
        assertEquals(List.of(130), halted);
    }

    @Test
    void anInterruptSaysItsSafePointAsAFieldNotOnlyInItsText() {
        // the sweep tells "before cell" from "in cell" and words its line from where(), not by parsing the message
        Interrupts.resetForTest(code -> { }, new PrintStream(new ByteArrayOutputStream()));
        Interrupts.Interrupted stop;
        try (Interrupts.Scope coop = Interrupts.cooperate()) {
            Interrupts.handle("TERM");
            stop = assertThrows(Interrupts.Interrupted.class, () -> Interrupts.checkpoint(() -> "before cell c01-f2"));
        }
        assertEquals("before cell c01-f2", stop.where());
        assertEquals("TERM", stop.signalName());
        Interrupts.Interrupted more = stop.withMessage("stopped; continue with: lora sweep ...");
        assertEquals("before cell c01-f2", more.where(), "kept when the command rewords the message");
        assertEquals(143, more.exitCode());
        assertEquals("interrupted (SIGTERM) ", Interrupts.Interrupted.heading("TERM"));
        assertNull(new Interrupts.Interrupted("INT", "interrupted (SIGINT)").where());
    }

    // ---- locks from other hosts

    @Test
    void aSilentLockFromAnotherHostIsTakenOverWithAWarningAFreshOneIsNot() throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("run"));
        Path f = dir.resolve(FolderLock.FILE);
        Files.writeString(f, "4242 some-other-node " + Instant.now().minus(Duration.ofHours(1)) + "\n");
        String msg = refusal(() -> FolderLock.acquire(dir, "lora train"));
        assertTrue(msg.contains("in use by another lora train"), msg);
        Files.setLastModifiedTime(f, FileTime.from(Instant.now().minus(FolderLock.FOREIGN_STALE).minusSeconds(5)));
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        FolderLock.warningsTo(new PrintStream(err, true));
        try (FolderLock lock = FolderLock.acquire(dir, "lora train")) {
            assertEquals(ProcessHandle.current().pid(), FolderLock.owner(dir).orElseThrow().pid());
        }
        assertTrue(err.toString().contains("taking over the lock of pid 4242 on some-other-node"), err.toString());
        Files.writeString(f, "4242 some-other-node " + Instant.now() + "\n");
        FolderLock.forceUnlock(true);
        try (FolderLock lock = FolderLock.acquire(dir, "lora train")) {
            assertTrue(err.toString().contains("--force-unlock"), err.toString());
        }
    }
}
