package com.loratool.io;

import com.loratool.LoraException;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;

/**
 * Ownership of a folder while one process writes it (a run folder during {@code lora train}): a
 * file {@code .lock} holding {@code pid host start-time}, created with {@code CREATE_NEW} so that
 * of two processes only one gets it. A second process is refused with one line naming the folder
 * and the owner. A lock whose owner is gone (same host, no such pid, or the pid now belongs to a
 * process started after the lock) is stale and taken over; one from another host cannot be
 * checked from here: its owner touches the file every {@link #HEARTBEAT} while it runs, so a
 * foreign lock not touched for {@link #FOREIGN_STALE} (a run moved to another node, a shared file
 * system) is taken over with a warning; {@link #forceUnlock} (the {@code --force-unlock} option)
 * takes over any lock, with a warning. A lock is released on exit and on SIGINT/SIGTERM.
 *
 * <p>Not {@code FileChannel.lock}: those locks vanish with the process but say nothing about who
 * holds them, and the owner's pid and host are what a user needs to see.
 */
public final class FolderLock implements AutoCloseable {
    public static final String FILE = ".lock";
    /** How often the owner touches its lock file. */
    public static final Duration HEARTBEAT = Duration.ofSeconds(60);
    /** A lock from another host untouched for this long belongs to a gone run (documented in docs/reliability.md). */
    public static final Duration FOREIGN_STALE = Duration.ofMinutes(10);
    private static volatile boolean force;
    private static volatile PrintStream warnings = System.err;

    /** What a lock file says. */
    public record Owner(long pid, String host, Instant started) {
        String line() {
            return pid + " " + host + " " + started;
        }

        static Optional<Owner> parse(String text) {
            String[] f = text.trim().split("\\s+");
            if (f.length != 3) {
                return Optional.empty();
            }
            try {
                return Optional.of(new Owner(Long.parseLong(f[0]), f[1], Instant.parse(f[2])));
            } catch (RuntimeException e) {
                return Optional.empty();
            }
        }

        @Override
        public String toString() {
            return "pid " + pid + " on " + host + " since " + started;
        }
    }

    /**
     * The refusal of a folder whose owner is alive (or cannot be checked). It names no option: a command
     * that can take a lock over ({@code lora train --force-unlock}) adds its own with {@link #offering}.
     */
    public static final class InUse extends LoraException {
        private final String head;
        private final Path lockFile;

        InUse(String head, Path lockFile) {
            super(head + " (if that process is gone: delete " + lockFile + ")");
            this.head = head;
            this.lockFile = lockFile;
        }

        /** The same refusal advising {@code option} (the command's way to take the lock over) too. */
        public LoraException offering(String option) {
            return new LoraException(head + " (if that process is gone: " + option + ", or delete " + lockFile + ")",
                    this);
        }
    }

    private final Path file;
    private final Owner me;
    private boolean released;
    private Interrupts.Scope onSignal;
    private Thread heartbeat;

    /** {@code --force-unlock}: the next locks are taken over whoever holds them (with a warning). */
    public static void forceUnlock(boolean on) {
        force = on;
    }

    static void warningsTo(PrintStream out) {
        warnings = out;
    }

    private FolderLock(Path file, Owner me) {
        this.file = file;
        this.me = me;
    }

    /** Takes {@code dir}'s lock (creating {@code dir}), or throws naming the folder and its owner. */
    public static FolderLock acquire(Path dir, String purpose) {
        ProcessHandle self = ProcessHandle.current();
        Owner me = new Owner(self.pid(), hostName(), Instant.now());
        Path file = dir.resolve(FILE);
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw LoraException.file(dir, "cannot create the folder (" + e.getMessage() + ")", e);
        }
        for (int attempt = 0; attempt < 3; attempt++) {
            try {
                Files.writeString(file, me.line() + "\n", StandardCharsets.UTF_8,
                        StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
                FolderLock lock = new FolderLock(file, me);
                lock.onSignal = Interrupts.onInterrupt(lock::close);
                lock.startHeartbeat();
                return lock;
            } catch (FileAlreadyExistsException e) {
                Optional<Owner> owner = read(file);
                if (owner.isPresent() && !isStale(owner.get(), me.host())) {
                    String why = force ? "--force-unlock" : foreignAndSilent(owner.get(), file, me.host())
                            ? "its host has not touched it for " + FOREIGN_STALE.toMinutes() + " minutes" : null;
                    if (why != null) {
                        warnings.println("warning: " + dir + ": taking over the lock of " + owner.get() + " (" + why
                                + ")");
                        try {
                            breakStale(file);
                        } catch (IOException io) {
                            throw LoraException.file(file, "cannot remove the lock (" + io.getMessage() + ")", io);
                        }
                        continue;
                    }
                    throw new InUse(dir + ": in use by another " + purpose + " (" + owner.get() + "); wait for it"
                            + " to finish, or pick another folder", file);
                }
                if (owner.isEmpty() && !Files.exists(file)) {
                    continue; // released between our two looks
                }
                if (owner.isEmpty() && recentlyWritten(file)) {
                    // being written by its creator right now: CREATE_NEW and the write are two steps
                    sleep(50);
                    continue;
                }
                try {
                    breakStale(file);
                } catch (IOException io) {
                    throw LoraException.file(file, "cannot remove the stale lock (" + io.getMessage() + ")", io);
                }
            } catch (IOException e) {
                throw LoraException.file(file, "cannot create the lock file (" + e.getMessage() + ")", e);
            }
        }
        throw LoraException.file(dir, "could not take the folder's lock " + file + " (it keeps changing hands)");
    }

    /** A lock of another host whose owner has not touched it for {@link #FOREIGN_STALE}. */
    static boolean foreignAndSilent(Owner owner, Path file, String thisHost) {
        if (owner.host().equals(thisHost)) {
            return false;
        }
        try {
            return Files.getLastModifiedTime(file).toInstant().isBefore(Instant.now().minus(FOREIGN_STALE));
        } catch (IOException e) {
            return false;
        }
    }

    private void startHeartbeat() {
        heartbeat = new Thread(() -> {
            try {
                while (true) {
                    Thread.sleep(HEARTBEAT.toMillis());
                    Files.setLastModifiedTime(file, FileTime.from(Instant.now()));
                }
            } catch (InterruptedException | IOException e) {
                // released, or the file is gone: nothing more to touch
            }
        }, "lock-heartbeat");
        heartbeat.setDaemon(true);
        heartbeat.start();
    }

    /** The owner named in {@code dir}'s lock file, if any. */
    public static Optional<Owner> owner(Path dir) {
        return read(dir.resolve(FILE));
    }

    /** Gone owner: same host and no live process with that pid started at or before the lock. */
    static boolean isStale(Owner owner, String thisHost) {
        if (!owner.host().equals(thisHost)) {
            return false;
        }
        Optional<ProcessHandle> p = ProcessHandle.of(owner.pid());
        if (p.isEmpty() || !p.get().isAlive()) {
            return true;
        }
        // pid reuse: a process that started after the lock was written is not its owner
        Optional<Instant> start = p.get().info().startInstant();
        return start.isPresent() && start.get().isAfter(owner.started().plusSeconds(1));
    }

    private static Optional<Owner> read(Path file) {
        try {
            return Owner.parse(Files.readString(file, StandardCharsets.UTF_8));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }

    private static boolean recentlyWritten(Path file) {
        try {
            return Files.getLastModifiedTime(file).toInstant().isAfter(Instant.now().minusSeconds(2));
        } catch (IOException e) {
            return false;
        }
    }

    /** Moves a stale lock aside atomically: of two processes breaking it, one wins the rename. */
    private static void breakStale(Path file) throws IOException {
        Path aside = file.resolveSibling(FILE + ".stale-" + ProcessHandle.current().pid());
        try {
            Files.move(file, aside, StandardCopyOption.ATOMIC_MOVE);
        } catch (NoSuchFileException e) {
            return; // someone else broke it first
        } catch (AtomicMoveNotSupportedException e) {
            Files.deleteIfExists(file);
            return;
        }
        Files.deleteIfExists(aside);
    }

    private static String hostName() {
        try {
            return InetAddress.getLocalHost().getHostName().replaceAll("\\s+", "_");
        } catch (UnknownHostException e) {
            String h = System.getenv("HOSTNAME");
            return h == null || h.isBlank() ? "unknown-host" : h.replaceAll("\\s+", "_");
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    public Owner owner() {
        return me;
    }

    /** Deletes the lock file if it is still this process's. */
    @Override
    public synchronized void close() {
        if (released) {
            return;
        }
        released = true;
        if (heartbeat != null) {
            heartbeat.interrupt();
        }
        if (onSignal != null) {
            onSignal.close();
        }
        Optional<Owner> now = read(file);
        if (now.isPresent() && now.get().equals(me)) {
            try {
                Files.deleteIfExists(file);
            } catch (IOException ignored) {
                // a left-over lock of a dead pid is detected as stale next time
            }
        }
    }
}
