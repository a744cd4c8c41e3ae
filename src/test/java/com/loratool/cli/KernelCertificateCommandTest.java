package com.loratool.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.loratool.train.TinyModels;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The kernel certificate as a user meets it, each case in a fresh JVM (the certificate runs once per
 * process, at the engine's first use), with the test-only fault {@code -Dlora.kernels.fault} standing
 * in for a CPU whose oneDNN computes convolutions wrong: the command warns in one line and works on
 * the switched kernels, or refuses in one line with exit 2 and writes nothing; doctor shows it.
 */
class KernelCertificateCommandTest {
    private static final Path TINY = TinyModels.dir("da2-tiny").toAbsolutePath();

    @TempDir
    Path tmp;

    record Result(int code, String out, String err) {}

    private Result lora(String fault, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xss4m", "-Dai.djl.offline=true", "-Dlora.cache=" + tmp.resolve("cache")));
        if (fault != null) {
            cmd.add("-Dlora.kernels.fault=" + fault);
        }
        cmd.addAll(List.of("-cp", System.getProperty("surefire.test.class.path", System.getProperty("java.class.path")),
                "com.loratool.cli.Main"));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().remove("LORA_KERNEL_CHECK");
        Path out = tmp.resolve("stdout.txt");
        Path err = tmp.resolve("stderr.txt");
        pb.redirectOutput(out.toFile()).redirectError(err.toFile());
        Process p = pb.start();
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "lora finished");
        return new Result(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8), Files.readString(err, StandardCharsets.UTF_8));
    }

    private String[] predict(Path out) {
        return new String[] {"predict", "--weights", TINY.resolve("weights.pth").toString(), "--model-config",
            TINY.resolve("model.yaml").toString(), "--input", TINY.resolve("image.png").toString(), "--output", out.toString()};
    }

    @Test
    void aWrongOneDnnIsSwitchedOffWithOneWarningLine() throws Exception {
        Path out = tmp.resolve("out");
        Result r = lora("convolution", predict(out));
        assertEquals(0, r.code(), r.err());
        List<String> warnings = r.err().lines().filter(l -> l.contains("WARN")).toList();
        assertEquals(1, warnings.size(), r.err());
        assertTrue(warnings.get(0).contains("convolution") && warnings.get(0).contains("switched oneDNN off"), r.err());
        assertTrue(Files.isRegularFile(out.resolve("image.npy")), "predicted on the switched kernels");
    }

    @Test
    void kernelsThatStayWrongAreRefusedInOneLineAndNothingIsWritten() throws Exception {
        Path out = tmp.resolve("out");
        Result r = lora("convolution@always", predict(out));
        assertEquals(2, r.code(), r.err());
        List<String> lines = r.err().lines().filter(l -> !l.isBlank()).toList();
        assertEquals(1, lines.size(), r.err());
        assertTrue(lines.get(0).startsWith("error: libtorch computes convolution"), r.err());
        assertTrue(lines.get(0).contains("refusing"), r.err());
        assertFalse(Files.exists(out.resolve("image.npy")), "nothing predicted on wrong kernels");
    }

    @Test
    void trainingIsRefusedToo() throws Exception {
        Path runs = tmp.resolve("runs");
        Path config = Path.of(System.getProperty("project.root", ".")).resolve("configs/smoke.yaml").toAbsolutePath();
        Result r = lora("convolution@always", "train", "--config", config.toString(), "--set",
                "train.output_dir=" + runs, "--set", "data.root=" + config.getParent().getParent().resolve("data-samples"));
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("refusing"), r.err());
        assertFalse(Files.exists(runs.resolve("smoke/best")), "no checkpoint from wrong kernels");
    }

    @Test
    void doctorShowsTheCertificate() throws Exception {
        Result r = lora("convolution", "doctor", "--fixture", TINY.toString());
        assertEquals(0, r.code(), r.out() + r.err());
        assertTrue(r.out().contains("kernels:     switched, switched off: oneDNN"), r.out());
        assertTrue(r.out().contains("cpu:") && r.out().contains("isa:") && r.out().contains("caches:"), r.out());
        assertTrue(r.out().lines().anyMatch(l -> l.contains("FAIL convolution") && l.contains("oneDNN")), r.out());
        assertTrue(r.out().lines().anyMatch(l -> l.contains("PASS convolution") && l.contains("ATen")), r.out());
    }

    @Test
    void doctorShowsARefusedMachineAndExitsOne() throws Exception {
        Result r = lora("convolution@always", "doctor", "--fixture", TINY.toString());
        assertEquals(1, r.code(), r.out() + r.err());
        assertTrue(r.out().contains("kernels:     refused"), r.out());
        assertTrue(r.out().contains("PROBLEM libtorch computes convolution"), r.out());
    }
}
