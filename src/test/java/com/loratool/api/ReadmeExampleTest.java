package com.loratool.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.PrintStream;
import java.lang.reflect.Method;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The README's "Java API" example, taken from README.md as written, compiled and run. */
class ReadmeExampleTest {
    @TempDir
    Path tmp;

    static String example() throws Exception {
        String readme = Files.readString(Path.of("README.md"));
        int section = readme.indexOf("## Java API");
        assertTrue(section >= 0, "README.md has a Java API section");
        Matcher m = Pattern.compile("```java\n(.*?)```", Pattern.DOTALL).matcher(readme);
        assertTrue(m.find(section), "the Java API section has a ```java block");
        return m.group(1);
    }

    @Test
    void theReadmesApiExampleCompilesAndRuns() throws Exception {
        String code = example();
        Path src = tmp.resolve("src/Example.java");
        Files.createDirectories(src.getParent());
        Files.writeString(src, code);
        Path classes = tmp.resolve("classes");
        Files.createDirectories(classes);
        String cp = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        ByteArrayOutputStream diag = new ByteArrayOutputStream();
        int rc = javac.run(null, diag, diag, "-cp", cp, "-d", classes.toString(), src.toString());
        assertEquals(0, rc, "javac: " + diag.toString(StandardCharsets.UTF_8));

        System.setProperty("lora.cache", tmp.resolve("cache").toString()); // not the user's ~/.cache
        PrintStream saved = System.out;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (URLClassLoader loader = new URLClassLoader(new URL[] {classes.toUri().toURL()},
                ReadmeExampleTest.class.getClassLoader())) {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            Method main = loader.loadClass("Example").getMethod("main", String[].class);
            main.invoke(null, (Object) new String[] {tmp.resolve("runs").toString()});
        } finally {
            System.setOut(saved);
            System.clearProperty("lora.cache");
        }
        String printed = out.toString(StandardCharsets.UTF_8);
        assertTrue(printed.contains("176 x 108 relative depth"), printed);
        Matcher abs = Pattern.compile("AbsRel ([0-9.]+) \\(original ([0-9.]+)\\)").matcher(printed);
        assertTrue(abs.find(), printed);
        assertTrue(Files.isRegularFile(tmp.resolve("runs/smoke/best/adapter.safetensors")));
        assertTrue(Files.isRegularFile(tmp.resolve("runs/smoke/eval/metrics.json")));
        assertTrue(List.of(new File(tmp.resolve("runs/smoke").toString()).list()).contains("config.yaml"));
    }
}
