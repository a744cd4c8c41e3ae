package com.loratool.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.loratool.LoraException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FolderLockTest {
    @TempDir
    Path tmp;

    @Test
    void aSecondOwnerIsRefusedNamingFolderAndOwner() {
        Path dir = tmp.resolve("runs/smoke");
        try (FolderLock first = FolderLock.acquire(dir, "training run")) {
            LoraException e = assertThrows(LoraException.class, () -> FolderLock.acquire(dir, "training run"));
            assertTrue(e.getMessage().startsWith(dir + ": in use by another training run"), e.getMessage());
            assertTrue(e.getMessage().contains("pid " + ProcessHandle.current().pid()), e.getMessage());
            assertTrue(Files.exists(dir.resolve(FolderLock.FILE)));
        }
        assertFalse(Files.exists(dir.resolve(FolderLock.FILE)), "released on close");
        try (FolderLock again = FolderLock.acquire(dir, "training run")) {
            assertEquals(ProcessHandle.current().pid(), again.owner().pid());
        }
    }

    @Test
    void theRefusalOffersAnOptionOnlyWhereTheCommandHasOne() {
        // lora sweep and lora eval have no --force-unlock: the refusal itself names no option
        Path dir = tmp.resolve("sweep");
        try (FolderLock first = FolderLock.acquire(dir, "lora sweep")) {
            FolderLock.InUse e = assertThrows(FolderLock.InUse.class, () -> FolderLock.acquire(dir, "lora sweep"));
            assertFalse(e.getMessage().contains("--"), e.getMessage());
            assertTrue(e.getMessage().endsWith("(if that process is gone: delete " + dir.resolve(FolderLock.FILE) + ")"),
                    e.getMessage());
            // lora train offers its own
            String train = e.offering("--force-unlock").getMessage();
            assertTrue(train.endsWith("(if that process is gone: --force-unlock, or delete "
                    + dir.resolve(FolderLock.FILE) + ")"), train);
            assertTrue(train.startsWith(dir + ": in use by another lora sweep (pid "), train);
        }
    }

    @Test
    void ofManyConcurrentTakersExactlyOneWins() throws Exception {
        Path dir = tmp.resolve("race");
        int n = 8;
        CountDownLatch go = new CountDownLatch(1);
        AtomicInteger won = new AtomicInteger();
        AtomicInteger refused = new AtomicInteger();
        List<Thread> threads = new ArrayList<>();
        List<FolderLock> held = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            Thread t = new Thread(() -> {
                try {
                    go.await();
                    FolderLock l = FolderLock.acquire(dir, "run");
                    synchronized (held) {
                        held.add(l);
                    }
                    won.incrementAndGet();
                } catch (LoraException e) {
                    refused.incrementAndGet();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            threads.add(t);
            t.start();
        }
        go.countDown();
        for (Thread t : threads) {
            t.join();
        }
        assertEquals(1, won.get());
        assertEquals(n - 1, refused.get());
        held.forEach(FolderLock::close);
    }

    @Test
    void aLockOfAFinishedProcessOnThisHostIsTakenOver() throws Exception {
        Process p = new ProcessBuilder("true").start();
        p.waitFor();
        Path dir = tmp.resolve("stale");
        Files.createDirectories(dir);
        String host = InetAddress.getLocalHost().getHostName();
        Files.writeString(dir.resolve(FolderLock.FILE), p.pid() + " " + host + " " + Instant.now().minusSeconds(60) + "\n");
        try (FolderLock l = FolderLock.acquire(dir, "run")) {
            assertEquals(ProcessHandle.current().pid(), FolderLock.owner(dir).orElseThrow().pid());
        }
    }

    @Test
    void aLockFromAnotherHostIsNotBrokenAndTheWayOutIsNamed() throws Exception {
        Path dir = tmp.resolve("remote");
        Files.createDirectories(dir);
        Files.writeString(dir.resolve(FolderLock.FILE), "12345 some-other-host " + Instant.now() + "\n");
        LoraException e = assertThrows(LoraException.class, () -> FolderLock.acquire(dir, "run"));
        assertTrue(e.getMessage().contains("pid 12345 on some-other-host"), e.getMessage());
        assertTrue(e.getMessage().contains("delete " + dir.resolve(FolderLock.FILE)), e.getMessage());
    }

    @Test
    void aPidReusedByALaterProcessIsStale() {
        FolderLock.Owner old = new FolderLock.Owner(ProcessHandle.current().pid(), "h", Instant.EPOCH);
        assertTrue(FolderLock.isStale(old, "h"), "this JVM started after 1970: not the lock's owner");
        FolderLock.Owner live = new FolderLock.Owner(ProcessHandle.current().pid(), "h", Instant.now());
        assertFalse(FolderLock.isStale(live, "h"));
        assertFalse(FolderLock.isStale(old, "other-host"));
    }
}
