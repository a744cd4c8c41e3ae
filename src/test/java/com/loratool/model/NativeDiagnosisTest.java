package com.loratool.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The problem rules on made-up machines (no GPU needed). */
class NativeDiagnosisTest {

    /** A loaded libtorch 2.7.1 of the given flavour, bundled as a jar, with the given GPUs. */
    private static NativeRuntime facts(String bundled, boolean cuda, List<NativeRuntime.Gpu> gpus, List<String> smi,
                                       String driver) {
        return new NativeRuntime("0.35.1", "2.7.1", bundled, "2.7.1-20250812", null, null, null, "2.7.1",
                "/root/.djl.ai/pytorch/2.7.1-20250812-" + bundled + "-linux-x86_64", bundled, cuda, cuda, null,
                gpus.isEmpty() ? null : "124", gpus, driver, smi, 2, 2);
    }

    private static final List<NativeRuntime.Gpu> ONE_GPU = List.of(new NativeRuntime.Gpu(0, "90", 500, 143771));

    @Test
    void gpuWantedButCpuNativesBundledGivesTheCudaProfileFix() {
        List<NativeDiagnosis.Problem> p = NativeDiagnosis.problems(facts("cpu", false, List.of(), List.of(), null), "gpu");
        assertEquals(1, p.size(), p.toString());
        assertTrue(p.get(0).what().startsWith("CPU natives bundled (pytorch-native-cpu"), p.get(0).what());
        assertTrue(p.get(0).fix().contains("-Pcuda") && p.get(0).fix().contains("LORA_PROFILE=cuda"), p.get(0).fix());
    }

    @Test
    void cpuWantedOnCpuNativesIsFine() {
        assertEquals(List.of(), NativeDiagnosis.problems(facts("cpu", false, List.of(), List.of(), null), "cpu"));
        // auto on a machine without a GPU: computing on the CPU is what was asked for
        assertEquals(List.of(), NativeDiagnosis.problems(facts("cpu", false, List.of(), List.of(), null), "auto"));
    }

    @Test
    void autoWithAGpuInTheMachineButCpuNativesIsNotSilent() {
        List<NativeDiagnosis.Problem> p = NativeDiagnosis.problems(
                facts("cpu", false, List.of(), List.of("0: NVIDIA H200, 143771 MiB"), "570.124.06"), "auto");
        assertEquals(1, p.size(), p.toString());
        assertTrue(p.get(0).what().contains("--device auto computes on the CPU"), p.get(0).what());
        assertTrue(p.get(0).fix().contains("-Pcuda"));
    }

    @Test
    void cudaNativesWithAGpuAndARecentDriverAreFine() {
        assertEquals(List.of(), NativeDiagnosis.problems(facts("cu124", true, ONE_GPU, List.of("0: H200"), "570.124.06"), "gpu"));
    }

    @Test
    void cudaNativesOnAnOldDriverNameTheDriverMinimum() {
        List<NativeDiagnosis.Problem> p = NativeDiagnosis.problems(facts("cu124", true, ONE_GPU, List.of("0: T4"), "535.54.03"), "gpu");
        assertEquals(1, p.size(), p.toString());
        assertTrue(p.get(0).what().contains("535.54.03") && p.get(0).fix().contains("550"), p.get(0).toString());
    }

    @Test
    void cudaNativesWithoutVisibleGpuPointAtTheCudaRuntime() {
        List<NativeDiagnosis.Problem> p = NativeDiagnosis.problems(facts("cu124", true, List.of(), List.of(), null), "gpu");
        assertEquals(1, p.size(), p.toString());
        assertTrue(p.get(0).fix().contains("LD_LIBRARY_PATH") && p.get(0).fix().contains("libcudart"), p.get(0).fix());
    }

    @Test
    void localLibraryWithoutFlavorThatFailedToLoadSaysSetPytorchFlavor() {
        NativeRuntime f = new NativeRuntime("0.35.1", "2.7.1", null, null, "/opt/torch/lib", null,
                "Cannot copy jni files (Resource not found in classpath: jnilib/linux-x86_64/cpu-precxx11/libdjl_torch.so)",
                null, null, null, false, false, null, null, List.of(), null, List.of(), 0, 0);
        List<NativeDiagnosis.Problem> p = NativeDiagnosis.problems(f, "cpu");
        assertEquals(1, p.size());
        assertTrue(p.get(0).fix().contains("PYTORCH_FLAVOR") && p.get(0).fix().contains("cu128"), p.get(0).fix());
    }

    @Test
    void localPytorchOfAnotherVersionIsNamed() {
        NativeRuntime f = new NativeRuntime("0.35.1", "2.7.1", null, null, "/venv/torch/lib", "cu128", null, "2.7.1",
                "/venv/torch/lib", "cu128", true, true, "2.6.0+cu124", "124", ONE_GPU, "570.1", List.of("0: H200"), 2, 2);
        List<NativeDiagnosis.Problem> p = NativeDiagnosis.problems(f, "gpu");
        assertEquals(1, p.size(), p.toString());
        assertTrue(p.get(0).what().contains("2.6.0+cu124") && p.get(0).fix().contains("torch==2.7.1"), p.get(0).toString());
    }

    @Test
    void flavourComesFromDjlsCacheFolderName() {
        assertEquals("cpu", NativeRuntime.flavorOfDir("/root/.djl.ai/pytorch/2.7.1-20250812-cpu-linux-x86_64"));
        assertEquals("cu124", NativeRuntime.flavorOfDir("/h/.djl.ai/pytorch/2.5.1-cu124-linux-x86_64"));
        assertEquals("cpu-precxx11", NativeRuntime.flavorOfDir("/c/pytorch/1.9.1-cpu-precxx11-linux-x86_64"));
        assertNull(NativeRuntime.flavorOfDir("/venv/lib/python3.11/site-packages/torch/lib"));
    }

    @Test
    void localTorchVersionIsReadFromThePipInstall(@TempDir Path tmp) throws Exception {
        Path lib = Files.createDirectories(tmp.resolve("torch/lib"));
        Files.writeString(tmp.resolve("torch/version.py"), "from typing import Optional\n__version__ = '2.7.1+cu126'\ngit_version = 'x'\n");
        assertEquals("2.7.1+cu126", NativeRuntime.localTorchVersion(lib.toString()));
        assertNull(NativeRuntime.localTorchVersion(tmp.toString()));
    }

    @Test
    void driverMajor() {
        assertEquals(570, NativeDiagnosis.driverMajor("570.124.06"));
        assertNull(NativeDiagnosis.driverMajor("n/a"));
    }
}
