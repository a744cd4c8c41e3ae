package com.loratool.model.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ai.djl.engine.Engine;
import com.loratool.model.kernels.KernelCertificate.Verdict;
import com.loratool.model.kernels.LibtorchSwitches.Backend;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The certificate's decisions, in this process: right kernels pass; a kernel that is wrong only
 * while oneDNN is on (the test-only fault, as on the affected AMD CPUs) gets oneDNN switched off
 * through libtorch's own switch and passes on the recheck; one that stays wrong is refused; the
 * verdict is cached and a cached switch is applied again.
 */
class KernelCertificateTest {
    @TempDir
    Path cache;

    LibtorchSwitches sw;
    boolean onednn;
    boolean nnpack;

    @BeforeEach
    void engine() {
        Engine.getEngine("PyTorch");
        sw = LibtorchSwitches.loaded();
        assertTrue(sw.available(Backend.ONEDNN), "libtorch exports at::Context::setUserEnabledMkldnn");
        // this process's own certificate may have switched a backend off (an affected CPU): keep it so for the other tests
        onednn = sw.enabled(Backend.ONEDNN);
        nnpack = sw.enabled(Backend.NNPACK);
    }

    @AfterEach
    void restore() {
        sw.set(Backend.ONEDNN, onednn);
        sw.set(Backend.NNPACK, nnpack);
    }

    /** The cases below start from libtorch's defaults, as a new process does. */
    private void defaults() {
        sw.set(Backend.ONEDNN, true);
        sw.set(Backend.NNPACK, true);
    }

    @Test
    void theSwitchReachesLibtorch() {
        defaults();
        assertTrue(sw.set(Backend.ONEDNN, false));
        assertFalse(sw.enabled(Backend.ONEDNN));
        assertTrue(sw.set(Backend.ONEDNN, true));
        assertTrue(sw.enabled(Backend.ONEDNN));
    }

    @Test
    void rightKernelsPassWithoutSwitching() {
        assumeTrue(KernelCertificate.examine().verdict() == Verdict.passed, "a CPU whose kernels are right");
        KernelCertificate c = KernelCertificate.certify("", cache, null);
        assertEquals(Verdict.passed, c.verdict(), () -> "failures: " + c.rounds().get(0).failures());
        assertEquals(1, c.rounds().size());
        assertTrue(c.switched().isEmpty());
        assertTrue(sw.enabled(Backend.ONEDNN));
        // every kernel kind of the model is among the checks
        for (String op : new String[] {"convolution", "transposed convolution", "linear", "layer norm", "GELU", "attention",
            "interpolation"}) {
            assertTrue(c.rounds().get(0).results().stream().anyMatch(r -> r.op().equals(op)), op);
        }
        assertTrue(c.rounds().get(0).results().stream().allMatch(r -> r.error() < 1e-5), "float32 kernels within 1e-5 of float64");
    }

    /** --threads N (model.Compute.setThreads before the engine's first use): the checks run at N and at one thread. */
    @Test
    void theChecksRunAtTheThreadCountAskedFor() {
        int before = ai.djl.pytorch.jni.JniUtils.getNumThreads();
        int asked = before == 3 ? 2 : 3;
        KernelCertificate.threadsAsked(asked);
        try {
            KernelCertificate c = KernelCertificate.certify("", cache, null);
            assertEquals(java.util.List.of(asked, 1), c.facts().threads());
            assertTrue(c.rounds().get(0).results().stream().anyMatch(r -> r.threads() == asked));
        } finally {
            KernelCertificate.threadsAsked(0);
            ai.djl.pytorch.jni.JniUtils.setNumThreads(before);
        }
    }

    @Test
    void aKernelWrongWithOneDnnSwitchesOneDnnOffAndPassesTheRecheck() {
        defaults();
        KernelCertificate c = KernelCertificate.certify("", cache, "convolution");
        assertEquals(Verdict.switched, c.verdict());
        assertEquals(java.util.List.of("oneDNN"), c.switched());
        assertFalse(sw.enabled(Backend.ONEDNN), "oneDNN switched off in libtorch");
        assertFalse(c.rounds().get(0).failures().isEmpty());
        assertTrue(c.rounds().get(1).failures().isEmpty());
        String w = c.warning();
        assertTrue(w.contains("convolution") && w.contains("gradient of input") && w.contains("switched oneDNN off"), w);
        assertFalse(w.contains("\n"), "one line");
    }

    @Test
    void aKernelWrongWhateverIsSwitchedIsRefused() {
        defaults();
        KernelCertificate c = KernelCertificate.certify("", cache, "convolution@always");
        assertEquals(Verdict.refused, c.verdict());
        assertEquals(3, c.rounds().size(), "default, oneDNN off, NNPACK off");
        String r = c.refusal();
        assertTrue(r.contains("convolution") && r.contains("refusing") && r.contains(KernelCertificate.ENV + "=skip"), r);
        assertFalse(r.contains("\n"), "one line");
    }

    @Test
    void theVerdictIsCachedAndACachedSwitchIsAppliedAgain() throws Exception {
        defaults();
        KernelCertificate first = KernelCertificate.certify("", cache, "convolution");
        assertEquals("checked", first.source());
        assertTrue(Files.isRegularFile(Path.of(first.file())));
        sw.set(Backend.ONEDNN, true); // a new process starts with libtorch's defaults
        KernelCertificate again = KernelCertificate.certify("", cache, "convolution");
        assertEquals("cached", again.source());
        assertEquals(Verdict.switched, again.verdict());
        assertFalse(sw.enabled(Backend.ONEDNN), "the cached switch is applied");
        KernelCertificate redone = KernelCertificate.certify("recheck", cache, "convolution");
        assertEquals("checked", redone.source());
    }

    @Test
    void aDamagedCacheFileIsCheckedAgain() throws Exception {
        KernelCertificate first = KernelCertificate.certify("", cache, null);
        assertEquals("checked", first.source());
        Files.writeString(Path.of(first.file()), "{not json");
        KernelCertificate again = KernelCertificate.certify("", cache, null);
        assertEquals("checked", again.source());
        assertEquals(first.verdict(), again.verdict());
        // valid JSON whose switch names no backend: checked again too, not an IllegalArgumentException at engine load
        String text = Files.readString(Path.of(again.file()));
        Files.writeString(Path.of(again.file()), text.replaceFirst("\"switched\" : \\[[^]]*]", "\"switched\" : [ \"MKL-DNN\" ]"));
        assertTrue(Files.readString(Path.of(again.file())).contains("MKL-DNN"));
        KernelCertificate third = KernelCertificate.certify("", cache, null);
        assertEquals("checked", third.source());
    }

    @Test
    void skipChecksNothing() {
        defaults();
        KernelCertificate c = KernelCertificate.certify("skip", cache, "convolution@always");
        assertEquals(Verdict.skipped, c.verdict());
        assertTrue(c.rounds().isEmpty());
        assertTrue(sw.enabled(Backend.ONEDNN), "nothing switched");
    }

    @Test
    void theKeyHoldsTheCpuTheCachesAndLibtorch() {
        MachineFacts f = MachineFacts.of(java.util.List.of(2, 1));
        assertFalse(f.cpu().isBlank());
        assertFalse(f.caches().isEmpty());
        assertTrue(f.libtorch().startsWith("2.7.1"), f.libtorch());
        MachineFacts other = new MachineFacts(f.cpu(), f.isa(), java.util.List.of("L3 33554432/16"), f.libtorch(), f.threads(),
                f.check());
        assertFalse(f.digest().equals(other.digest()), "other reported caches, another verdict");
    }

    @Test
    void theToolkitsEngineProviderQuietsLibtorchsLog() {
        // set by CertifiedEngineProvider when the engine loaded: the provider served this process's engine
        int level = com.sun.jna.NativeLibrary.getInstance(Path.of(ai.djl.pytorch.jni.LibUtils.getLibtorchPath(),
                System.mapLibraryName("c10")).toString()).getGlobalVariableAddress("FLAGS_caffe2_log_level").getInt(0);
        assertEquals(LibtorchSwitches.LOG_ERROR, level, "libtorch's warnings hidden unless --verbose");
    }
}
