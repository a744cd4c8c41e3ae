package com.loratool.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.loratool.train.TinyModels;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The folders native libraries are unpacked into (OpenCV: the toolkit's cache; ONNX Runtime:
 * java.io.tmpdir; libtorch: DJL's cache), missing or unusable: the command works, or ends in one line
 * naming the folder and the setting. Each case runs {@code lora} in a fresh JVM, since a library loads
 * once per process.
 */
class NativeFoldersTest {
    private static final Path TINY = TinyModels.dir("da2-tiny").toAbsolutePath();

    @TempDir
    Path tmp;
    Path notAFolder;

    record Result(int code, String err) {}

    @BeforeEach
    void setUp() throws IOException {
        notAFolder = Files.writeString(tmp.resolve("a-file"), "x");
    }

    private Result lora(Map<String, String> env, List<String> jvm, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xss4m", "-Dai.djl.offline=true"));
        cmd.addAll(jvm);
        cmd.addAll(List.of("-cp", System.getProperty("surefire.test.class.path", System.getProperty("java.class.path")),
                "com.loratool.cli.Main"));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectOutput(ProcessBuilder.Redirect.DISCARD);
        pb.environment().remove("ENGINE_CACHE_DIR");
        pb.environment().remove("PYTORCH_LIBRARY_PATH");
        pb.environment().putAll(env);
        Path err = tmp.resolve("stderr.txt");
        pb.redirectError(err.toFile());
        Process p = pb.start();
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "lora finished");
        return new Result(p.exitValue(), Files.readString(err, StandardCharsets.UTF_8));
    }

    private String[] predict(Path out) {
        return new String[] {"predict", "--weights", TINY.resolve("weights.pth").toString(), "--model-config",
            TINY.resolve("model.yaml").toString(), "--input", TINY.resolve("image.png").toString(), "--output", out.toString()};
    }

    private static List<Path> contents(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.toList();
        }
    }

    @Test
    void predictWorksWithAMissingTmpdir() throws Exception {
        Path out = Files.createDirectories(tmp.resolve("out"));
        Result r = lora(Map.of(), List.of("-Djava.io.tmpdir=" + notAFolder.resolve("tmp"),
                "-Dlora.cache=" + tmp.resolve("cache")), predict(out));
        assertEquals(0, r.code(), r.err());
        assertTrue(Files.isRegularFile(out.resolve("image.npy")), r.err());
        assertFalse(r.err().contains("Exception") || r.err().contains("Error") || r.err().contains("jlinenative"), r.err());
        assertTrue(Files.isDirectory(tmp.resolve("cache/natives")), "OpenCV came out into the toolkit's cache");
    }

    @Test
    void anOnnxExportWithAMissingTmpdirIsOneLineAndWritesNothing() throws Exception {
        Path out = Files.createDirectories(tmp.resolve("out"));
        Path missing = tmp.resolve("gone");
        Result r = lora(Map.of(), List.of("-Djava.io.tmpdir=" + missing, "-Dlora.cache=" + tmp.resolve("cache")),
                "export", "--format", "onnx", "--weights", TINY.resolve("weights.pth").toString(), "--model-config",
                TINY.resolve("model.yaml").toString(), "--output", out.resolve("m.onnx").toString());
        assertEquals(2, r.code(), r.err());
        assertEquals("error: " + missing + ": java.io.tmpdir does not exist; ONNX Runtime unpacks its native library"
                + " there: set TMPDIR=DIR for ./lora, or -Djava.io.tmpdir=DIR (LORA_JAVA_OPTS)", r.err().strip());
        assertEquals(List.of(), contents(out));
    }

    @Test
    void aToolkitCacheThatCannotBeMadeIsOneLineNamingItAndTheSetting() throws Exception {
        Path out = Files.createDirectories(tmp.resolve("out"));
        Path bad = notAFolder.resolve("cache");
        Result r = lora(Map.of(), List.of("-Dlora.cache=" + bad), predict(out));
        assertEquals(2, r.code(), r.err());
        assertEquals(1, r.err().strip().lines().count(), r.err());
        assertTrue(r.err().startsWith("error: " + bad + ": cannot unpack the OpenCV native library there ("), r.err());
        assertTrue(r.err().contains("set LORA_CACHE=DIR"), r.err());
        assertEquals(List.of(), contents(out));
    }

    @Test
    void aDjlCacheThatCannotBeMadeIsOneLineNamingItAndTheSetting() throws Exception {
        Path out = Files.createDirectories(tmp.resolve("out"));
        Path bad = notAFolder.resolve("djl");
        Result r = lora(Map.of("DJL_CACHE_DIR", bad.toString()), List.of("-Dlora.cache=" + tmp.resolve("cache")),
                predict(out));
        assertEquals(2, r.code(), r.err());
        assertEquals(1, r.err().strip().lines().count(), r.err());
        assertTrue(r.err().startsWith("error: " + bad.resolve("pytorch") + ": cannot unpack libtorch into DJL's cache ("),
                r.err());
        assertTrue(r.err().contains("set DJL_CACHE_DIR=DIR"), r.err());
        assertEquals(List.of(), contents(out));
    }
}
