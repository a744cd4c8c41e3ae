package com.loratool.io;

import com.loratool.LoraException;
import java.io.IOException;
import java.io.InputStream;
import java.net.JarURLConnection;
import java.net.URISyntaxException;
import java.net.URL;
import java.net.URLConnection;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.FileSystemNotFoundException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.zip.ZipEntry;

/**
 * The folders native libraries are unpacked into, and the one-line failures when they cannot be.
 *
 * <p>Libraries the toolkit ships inside jars (OpenCV's) are unpacked into the toolkit's own cache,
 * {@code natives/} in {@link CacheDir#root()}; when the default cache cannot be written (not one the
 * user set), into {@code <java.io.tmpdir>/lora-cache-<user>}. Each library goes into a folder named by the jar entry's
 * size and CRC, written under a temporary name and moved into place, so concurrent processes share it and
 * a later start loads it without copying. Hand-written because openpnp's {@code OpenCV.loadLocally()}
 * copies its 65 MB library into a fresh {@code java.io.tmpdir} folder on every start and, when that
 * folder is missing or read-only, dies with an {@code ExceptionInInitializerError} stack trace.
 *
 * <p>ONNX Runtime's loader always makes a folder in {@code java.io.tmpdir} (its jar gives no other
 * choice); {@link #requireTmpdir} checks that folder first and names the setting that changes it.
 */
public final class NativeLibraries {
    /** How to move java.io.tmpdir, in a message. */
    static final String TMPDIR_SETTING = "set TMPDIR=DIR for ./lora, or -Djava.io.tmpdir=DIR (LORA_JAVA_OPTS)";

    private NativeLibraries() {}

    /**
     * Unpacks the class-path {@code resource} (a native library) into the cache and loads it with
     * {@link System#load}. {@code what} names the library in messages ("OpenCV").
     *
     * @throws LoraException naming the folder and the setting when it cannot be written or loaded
     */
    public static Path load(String what, String resource) {
        Path lib = unpack(what, resource);
        try {
            System.load(lib.toString());
        } catch (UnsatisfiedLinkError e) {
            throw new LoraException(lib + ": cannot load the " + what + " native library (" + firstLine(e.getMessage())
                    + "); if its folder is on a noexec mount, move the cache with " + CacheDir.SETTING + ")");
        }
        return lib;
    }

    /** Unpacks {@code resource} into the cache (if not there already) and returns the file. */
    public static Path unpack(String what, String resource) {
        URL url = NativeLibraries.class.getResource(resource);
        if (url == null) {
            throw new LoraException("the " + what + " native library " + resource + " is not on the class path"
                    + " (no build for " + platform() + "?)");
        }
        String name = resource.substring(resource.lastIndexOf('/') + 1);
        List<Path> roots = cacheRoots();
        List<IOException> failed = new ArrayList<>();
        for (Path root : roots) {
            try {
                return unpackInto(url, root, name);
            } catch (IOException e) {
                failed.add(e);
            }
        }
        IOException first = failed.get(0);
        String fix = CacheDir.SETTING + " to a writable folder" + (roots.size() == 1 ? ""
                : " (" + roots.get(1) + ", the fallback in java.io.tmpdir, failed too: " + reason(failed.get(1)) + ")");
        throw new LoraException(roots.get(0) + ": cannot unpack the " + what + " native library there ("
                + reason(first) + "); set " + fix);
    }

    /** The cache the user set; else the default one, then {@code <java.io.tmpdir>/lora-cache-<user>}. */
    private static List<Path> cacheRoots() {
        if (CacheDir.explicit() != null) {
            return List.of(CacheDir.root());
        }
        String user = System.getProperty("user.name", "user").replaceAll("[^A-Za-z0-9._-]", "_");
        return List.of(CacheDir.root(), Path.of(System.getProperty("java.io.tmpdir"), "lora-cache-" + user));
    }

    /** A class-path entry's cache key (jar entry size and CRC, no read; else the file's SHA-256) and size. */
    private record Entry(String key, long size) {
        static Entry of(URL url) throws IOException {
            URLConnection c = url.openConnection();
            if (c instanceof JarURLConnection jar) {
                ZipEntry e = jar.getJarEntry();
                if (e != null && e.getSize() >= 0 && e.getCrc() >= 0) {
                    return new Entry(e.getSize() + "-" + Long.toHexString(e.getCrc()), e.getSize());
                }
            }
            try {
                Path file = Path.of(url.toURI());
                return new Entry(Checksums.sha256(file).substring(0, 16), Files.size(file));
            } catch (URISyntaxException | IllegalArgumentException | FileSystemNotFoundException e) {
                throw new IOException(url + ": neither a jar entry nor a file", e);
            }
        }
    }

    /** {@code root/natives/<key>/<name>}, written once under a temporary name and moved into place. */
    static Path unpackInto(URL url, Path root, String name) throws IOException {
        Entry entry = Entry.of(url);
        Path dir = root.resolve("natives").resolve(entry.key());
        Path lib = dir.resolve(name);
        if (Files.isRegularFile(lib) && Files.size(lib) == entry.size()) {
            return lib;
        }
        Files.createDirectories(dir);
        Path tmp = Files.createTempFile(dir, name, ".part");
        try {
            try (InputStream in = url.openStream()) {
                Files.copy(in, tmp, StandardCopyOption.REPLACE_EXISTING);
            }
            if (Files.size(tmp) != entry.size()) {
                throw new IOException("unpacked " + Files.size(tmp) + " of " + entry.size() + " bytes (disk full?)");
            }
            Files.move(tmp, lib, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } finally {
            Files.deleteIfExists(tmp);
        }
        return lib;
    }

    /**
     * Points JLine (the progress bars' terminal) at the cache for its small native library, unless
     * {@code jline.tmpdir} is set: it would otherwise unpack into {@code java.io.tmpdir} and print a
     * line per attempt when that folder is missing. Where the cache cannot be made JLine keeps its
     * default and falls back to its non-native terminal.
     */
    public static void directJLine() {
        if (System.getProperty("jline.tmpdir") != null) {
            return;
        }
        for (Path root : cacheRoots()) {
            Path jline = root.resolve("natives").resolve("jline");
            try {
                Files.createDirectories(jline);
                if (Files.isWritable(jline)) {
                    System.setProperty("jline.tmpdir", jline.toString());
                    return;
                }
            } catch (IOException | SecurityException e) {
                // try the next folder
            }
        }
    }

    /**
     * Checks that {@code java.io.tmpdir} is a folder this process can write, before a native loader that
     * needs it ({@code who}: "ONNX Runtime") runs.
     *
     * @throws LoraException naming the folder and {@link #TMPDIR_SETTING}
     */
    public static Path requireTmpdir(String who) {
        Path tmp = Path.of(System.getProperty("java.io.tmpdir"));
        String problem = null;
        if (!Files.exists(tmp)) {
            problem = "does not exist";
        } else if (!Files.isDirectory(tmp)) {
            problem = "is not a folder";
        } else {
            try {
                Files.delete(Files.createTempFile(tmp, "lora-probe", ".tmp"));
            } catch (IOException e) {
                problem = "cannot be written (" + reason(e) + ")";
            }
        }
        if (problem != null) {
            throw new LoraException(tmp + ": java.io.tmpdir " + problem + "; " + who
                    + " unpacks its native library there: " + TMPDIR_SETTING);
        }
        return tmp;
    }

    /** "linux-x86_64" and so on, for messages and for picking a library. */
    public static String platform() {
        return os() + "-" + arch();
    }

    /** linux, osx, windows or the JVM's os.name. */
    public static String os() {
        String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
        return os.startsWith("linux") ? "linux" : os.startsWith("mac") ? "osx" : os.startsWith("windows") ? "windows" : os;
    }

    /** x86_64, aarch64 or the JVM's os.arch. */
    public static String arch() {
        String a = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
        return a.equals("amd64") || a.equals("x86_64") ? "x86_64" : a.equals("aarch64") || a.equals("arm64") ? "aarch64" : a;
    }

    /** An I/O failure in a few words: "no such folder", "permission denied", or the message. */
    static String reason(IOException e) {
        if (e instanceof NoSuchFileException) {
            return "no such folder: " + ((FileSystemException) e).getFile();
        }
        if (e instanceof AccessDeniedException) {
            return "permission denied";
        }
        if (e instanceof FileSystemException fs && fs.getReason() != null) {
            return fs.getReason();
        }
        return firstLine(String.valueOf(e.getMessage()));
    }

    private static String firstLine(String s) {
        return s == null ? "" : s.lines().findFirst().orElse("").strip();
    }
}
