package com.loratool.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.loratool.LoraException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.List;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** Where native libraries are unpacked, and the one-line failures when a folder cannot be used. */
class NativeLibrariesTest {
    /** An entry of a jar on the test class path (picocli's), standing in for a native library. */
    private static final String JAR_ENTRY = "/picocli/CommandLine.class";

    @TempDir
    Path tmp;

    private static <T> T with(String property, Object value, Supplier<T> body) {
        String saved = System.getProperty(property);
        System.setProperty(property, value.toString());
        try {
            return body.get();
        } finally {
            if (saved == null) {
                System.clearProperty(property);
            } else {
                System.setProperty(property, saved);
            }
        }
    }

    private static byte[] resource(String name) throws IOException {
        try (InputStream in = CommandLine.class.getResourceAsStream(name)) {
            return in.readAllBytes();
        }
    }

    private static List<Path> files(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.toList();
        }
    }

    @Test
    void aJarEntryIsUnpackedOnceIntoTheCacheAndReusedWithoutCopying() throws Exception {
        Path cache = tmp.resolve("cache");
        Path lib = with(CacheDir.PROPERTY, cache, () -> NativeLibraries.unpack("test", JAR_ENTRY));
        assertTrue(lib.startsWith(cache.resolve("natives")), lib.toString());
        assertEquals("CommandLine.class", lib.getFileName().toString());
        assertArrayEquals(resource(JAR_ENTRY), Files.readAllBytes(lib));
        Files.setLastModifiedTime(lib, FileTime.fromMillis(0));
        Path again = with(CacheDir.PROPERTY, cache, () -> NativeLibraries.unpack("test", JAR_ENTRY));
        assertEquals(lib, again);
        assertEquals(0, Files.getLastModifiedTime(again).toMillis(), "the second start copies nothing");
        assertEquals(List.of(lib), files(lib.getParent()), "no temporary file is left");
    }

    @Test
    void aTruncatedCopyInTheCacheIsReplaced() throws Exception {
        Path cache = tmp.resolve("cache");
        Path lib = with(CacheDir.PROPERTY, cache, () -> NativeLibraries.unpack("test", JAR_ENTRY));
        Files.write(lib, new byte[] {1, 2, 3}); // a copy cut short by a full disk or a kill
        with(CacheDir.PROPERTY, cache, () -> NativeLibraries.unpack("test", JAR_ENTRY));
        assertArrayEquals(resource(JAR_ENTRY), Files.readAllBytes(lib));
    }

    @Test
    void aFileOutsideAJarIsKeyedByItsContent() throws Exception {
        String own = "/com/loratool/io/NativeLibrariesTest.class"; // in target/test-classes: a file: URL
        Path lib = with(CacheDir.PROPERTY, tmp, () -> NativeLibraries.unpack("test", own));
        assertTrue(lib.getParent().getFileName().toString().matches("[0-9a-f]{16}"), lib.toString());
        assertArrayEquals(resource(own), Files.readAllBytes(lib));
    }

    @Test
    void aCacheTheUserSetThatCannotBeMadeIsOneLineNamingItAndTheSetting() throws Exception {
        Path file = Files.writeString(tmp.resolve("a-file"), "x");
        Path bad = file.resolve("cache");
        LoraException e = assertThrows(LoraException.class,
                () -> with(CacheDir.PROPERTY, bad, () -> NativeLibraries.unpack("OpenCV", JAR_ENTRY)));
        assertTrue(e.getMessage().startsWith(bad + ": cannot unpack the OpenCV native library there ("), e.getMessage());
        assertTrue(e.getMessage().contains("set LORA_CACHE=DIR"), e.getMessage());
        assertFalse(e.getMessage().contains("\n"));
    }

    @Test
    void anUnwritableDefaultCacheFallsBackToTmpdir() throws Exception {
        assumeTrue(System.getenv("XDG_CACHE_HOME") == null && System.getenv(CacheDir.ENV) == null,
                "the default cache is under user.home");
        Path file = Files.writeString(tmp.resolve("home-is-a-file"), "x");
        Path tmpdir = Files.createDirectories(tmp.resolve("tmpdir"));
        Path lib = with("user.home", file, () -> with("java.io.tmpdir", tmpdir,
                () -> NativeLibraries.unpack("test", JAR_ENTRY)));
        assertTrue(lib.startsWith(tmpdir), lib.toString());
        assertArrayEquals(resource(JAR_ENTRY), Files.readAllBytes(lib));
    }

    @Test
    void aMissingOrNonFolderTmpdirIsOneLineNamingItAndTheSetting() throws Exception {
        Path missing = tmp.resolve("none");
        String m = assertThrows(LoraException.class,
                () -> with("java.io.tmpdir", missing, () -> NativeLibraries.requireTmpdir("ONNX Runtime"))).getMessage();
        assertEquals(missing + ": java.io.tmpdir does not exist; ONNX Runtime unpacks its native library there: "
                + NativeLibraries.TMPDIR_SETTING, m);
        Path file = Files.writeString(tmp.resolve("f"), "x");
        m = assertThrows(LoraException.class,
                () -> with("java.io.tmpdir", file, () -> NativeLibraries.requireTmpdir("ONNX Runtime"))).getMessage();
        assertTrue(m.startsWith(file + ": java.io.tmpdir is not a folder;"), m);
        assertEquals(tmp, with("java.io.tmpdir", tmp, () -> NativeLibraries.requireTmpdir("ONNX Runtime")));
        assertEquals(List.of(), files(tmp).stream().filter(p -> p.getFileName().toString().startsWith("lora-probe")).toList(),
                "the probe file is removed");
    }
}
