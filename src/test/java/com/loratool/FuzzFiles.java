package com.loratool;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Consumer;

/**
 * The property every fuzz test of a file reader checks: for any bytes, reading the file ends in a
 * result or in a {@link LoraException} whose one-line message starts with the file's name. Any
 * other exception or error (an overflow, an OutOfMemoryError under the fuzzer's -Xmx, a
 * StackOverflowError) escapes and is a finding; a hang is caught by the fuzzer's -timeout.
 */
public final class FuzzFiles {
    private static Path dir;

    private FuzzFiles() {}

    private static synchronized Path dir() throws IOException {
        if (dir == null) {
            Path shm = Path.of("/dev/shm");
            dir = Files.isDirectory(shm) && Files.isWritable(shm)
                    ? Files.createTempDirectory(shm, "lora-fuzz") : Files.createTempDirectory("lora-fuzz");
            dir.toFile().deleteOnExit();
        }
        return dir;
    }

    /** Writes {@code data} to a file called {@code name} and runs {@code reader} on it. */
    public static void check(byte[] data, String name, Consumer<Path> reader) {
        Path f;
        try {
            f = dir().resolve(name);
            Files.write(f, data);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        try {
            reader.accept(f);
        } catch (LoraException e) {
            String m = e.getMessage();
            if (m == null || !(m.startsWith(f + ": ") || m.startsWith(f + "[") || m.matches("\\Q" + f + "\\E:\\d+: .*"))) {
                throw new AssertionError("error does not name the file: " + m, e);
            }
            if (m.indexOf('\n') >= 0 || m.indexOf('\r') >= 0) {
                throw new AssertionError("error is not one line: " + m, e);
            }
        }
    }
}
