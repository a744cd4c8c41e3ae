package com.loratool.cli;

import ai.djl.Device;
import ai.djl.ndarray.types.Shape;
import com.loratool.LoraException;
import com.loratool.checkpoint.ModelResolver;
import com.loratool.checkpoint.ModelSource;
import com.loratool.checkpoint.ResolvedModel;
import com.loratool.io.Npy;
import com.loratool.io.NpyArray;
import com.loratool.model.Compute;
import com.loratool.model.DeviceParity;
import com.loratool.model.NativeDiagnosis;
import com.loratool.model.NativeRuntime;
import com.loratool.model.kernels.KernelCertificate;
import com.loratool.model.kernels.KernelChecks;
import com.loratool.model.kernels.MachineFacts;
import java.io.PrintWriter;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code lora doctor}: which libtorch this build runs on and whether each device computes the
 * model right. Prints the engine, libtorch version and flavour, where the natives came from,
 * CUDA/cuDNN, the GPUs, threads; then runs the model forward and backward on the CPU (checked
 * against the official PyTorch output when the fixture has one) and on every GPU (checked against
 * the CPU). Each problem is one line with its fix; the exit code is 1 when any check fails.
 */
@Command(name = "doctor", mixinStandardHelpOptions = true,
        description = {"Checks the native libtorch (CPU/CUDA flavour, where it was loaded from, GPUs), shows the kernel "
                + "certificate (each native kernel at its edge-case shapes against float64, the backend used, the verdict, "
                + "what was switched off, and the CPU facts it is keyed by) and runs the model forward and backward on "
                + "each device against the CPU. Exit code 1 when a check fails."})
final class DoctorCommand implements Callable<Integer> {
    static final String DEFAULT_FIXTURE = "fixtures/da2-tiny";

    @Option(names = "--fixture", paramLabel = "DIR",
            description = "Folder with model.yaml, weights.pth, input_tensor.npy (+ expected_raw.npy). "
                    + "Default: " + DEFAULT_FIXTURE + " in the current folder or the project of the jar.")
    Path fixture;

    @Option(names = "--weights", paramLabel = "FILE",
            description = "Check these weights (.pth/.safetensors) instead of the tiny fixture.")
    Path weights;

    @Option(names = "--model-config", paramLabel = "FILE",
            description = "model.yaml for --weights (default: inferred from the tensor shapes).")
    Path modelConfig;

    @Option(names = "--input-size", defaultValue = "126", paramLabel = "N",
            description = "Square input side for --weights, a multiple of 14. Default: ${DEFAULT-VALUE}.")
    int inputSize;

    @Option(names = "--tolerance", defaultValue = "1e-2", paramLabel = "REL",
            description = "Largest relative L2 error of a GPU against the CPU (TF32 convolutions on recent GPUs "
                    + "give about 1e-3). Default: ${DEFAULT-VALUE}.")
    double tolerance;

    @Mixin
    CommonOptions common;

    @Spec
    CommandSpec spec;

    /** CPU forward against the official PyTorch output (the fixture's expected_raw.npy). */
    static final double REFERENCE_TOLERANCE = 1e-4;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        KernelCertificate.inspectOnly(); // show a refused machine's certificate instead of stopping at it
        KernelCertificate.threadsAsked(common.threads); // the certificate at --threads, as the commands will check it
        NativeRuntime f = NativeRuntime.detect(); // loads the engine, recording (not throwing) a failure
        if (f.loaded() && common.threads > 0) {
            Compute.setThreads(common.threads);
            f = NativeRuntime.detect();
        }
        printFacts(out, f);
        List<NativeDiagnosis.Problem> problems = new ArrayList<>(NativeDiagnosis.problems(f, common.device.name()));
        if (f.loaded()) {
            problems.addAll(kernels(out, KernelCertificate.examine()));
            problems.addAll(checks(out, f));
        }
        out.println();
        if (problems.isEmpty()) {
            out.println("doctor: all checks passed");
        } else {
            out.printf(Locale.ROOT, "doctor: %d problem(s)%n", problems.size());
            problems.forEach(p -> out.println("PROBLEM " + p));
        }
        out.flush();
        return problems.isEmpty() ? 0 : 1;
    }

    static void printFacts(PrintWriter out, NativeRuntime f) {
        out.printf(Locale.ROOT, "engine:      PyTorch via DJL %s (built for libtorch %s), Java %s%n", f.djlVersion(),
                f.engineTorch(), System.getProperty("java.version"));
        out.printf(Locale.ROOT, "bundled:     %s%n", f.bundledFlavor() == null
                ? "no native jar (natives-local build: PYTORCH_LIBRARY_PATH, or a download per PYTORCH_FLAVOR)"
                : "pytorch-native-" + f.bundledFlavor() + " " + f.bundledVersion());
        out.printf(Locale.ROOT, "environment: PYTORCH_LIBRARY_PATH=%s PYTORCH_FLAVOR=%s PYTORCH_VERSION=%s%n",
                orUnset(f.libraryPathEnv()), orUnset(f.flavorEnv()), orUnset(System.getenv("PYTORCH_VERSION")));
        if (!f.loaded()) {
            out.printf(Locale.ROOT, "libtorch:    NOT LOADED: %s%n", f.loadError());
        } else {
            out.printf(Locale.ROOT, "libtorch:    %s, flavour %s%s%n", f.libtorchVersion(), f.flavor(),
                    f.localTorchVersion() != null ? " (PyTorch " + f.localTorchVersion() + " install)" : "");
            out.printf(Locale.ROOT, "natives:     %s%n", f.nativesDir());
            out.printf(Locale.ROOT, "compiled:    CUDA %s, cuDNN %s; features %s%n", yes(f.cudaBuilt()), yes(f.cudnnBuilt()),
                    String.join(" ", NativeRuntime.features()));
            out.printf(Locale.ROOT, "threads:     %d intra-op, %d inter-op%n", f.threads(), f.interopThreads());
        }
        out.printf(Locale.ROOT, "CUDA:        runtime %s; NVIDIA driver %s%n",
                f.cudaRuntime() == null ? "none found (libcudart via JNA)" : cudaVersion(f.cudaRuntime()),
                f.driver() == null ? "unknown (no nvidia-smi)" : f.driver());
        if (f.gpus().isEmpty() && f.smiGpus().isEmpty()) {
            out.println("GPUs:        none");
        }
        for (NativeRuntime.Gpu g : f.gpus()) {
            out.printf(Locale.ROOT, "GPU %d:       compute %s, %,d MiB total, %,d MiB in use%n", g.id(),
                    g.computeCapability(), g.totalMb(), g.usedMb());
        }
        for (String s : f.smiGpus()) {
            out.printf(Locale.ROOT, "nvidia-smi:  %s%n", s);
        }
        out.flush();
    }

    /**
     * The kernel certificate: the machine facts it is keyed by, each check of each round (operation,
     * shape, threads, worst part, error, backend, verdict) and what was switched; a refusal is a problem.
     */
    static List<NativeDiagnosis.Problem> kernels(PrintWriter out, KernelCertificate c) {
        out.println();
        if (c == null) {
            out.println("kernels:     not certified");
            return List.of();
        }
        MachineFacts m = c.facts();
        String where = c.file() == null ? "not kept (cache folder not writable)" : c.file();
        out.printf(Locale.ROOT, "kernels:     %s%s (%s; %s)%n", c.verdict(), c.switched().isEmpty() ? ""
                : ", switched off: " + String.join(", ", c.switched()), c.source().equals("skipped")
                ? KernelCertificate.ENV + "=skip" : String.format(Locale.ROOT, "%s, %.2f s, %s", c.source(), c.seconds(), where),
                KernelCertificate.ENV + "=recheck redoes the checks");
        out.printf(Locale.ROOT, "cpu:         %s%n", m.cpu());
        out.printf(Locale.ROOT, "isa:         %s%n", String.join(" ", m.isa()));
        out.printf(Locale.ROOT, "caches:      %s (size in bytes / ways, as CPUID reports them)%n", m.cachesLine());
        out.printf(Locale.ROOT, "libtorch:    %s; checked with %s thread(s), check version %d%n", m.libtorch(),
                m.threads(), m.check());
        for (int i = 0; i < c.rounds().size(); i++) {
            KernelCertificate.Round r = c.rounds().get(i);
            out.printf(Locale.ROOT, "  round %d, %s: %d of %d right (float32 against float64, tolerance %.0e)%n", i + 1,
                    r.backends(), r.results().size() - r.failures().size(), r.results().size(), KernelChecks.TOLERANCE);
            for (KernelCertificate.Result x : r.results()) {
                out.printf(Locale.ROOT, "    %s %-22s %-58s %d thr  %-19s %9.2e  %s%n", x.pass() ? "PASS" : "FAIL", x.op(),
                        x.shape(), x.threads(), x.part(), x.error(), x.backend());
            }
        }
        if (c.verdict() == KernelCertificate.Verdict.refused) {
            return List.of(new NativeDiagnosis.Problem(c.refusal(), "report it with the doctor output; a libtorch build "
                    + "for this CPU (PYTORCH_LIBRARY_PATH, requirements-native.md) may compute right"));
        }
        if (c.verdict() == KernelCertificate.Verdict.switched) {
            out.println("  " + c.warning());
        }
        return List.of();
    }

    /** Forward + backward on the CPU, then on each usable GPU; the failed checks as problems. */
    private List<NativeDiagnosis.Problem> checks(PrintWriter out, NativeRuntime f) {
        List<NativeDiagnosis.Problem> problems = new ArrayList<>();
        Path dir = null;
        Path w = weights;
        Path cfg = modelConfig;
        float[] input;
        long[] shape;
        float[] reference = null;
        if (w == null) {
            dir = fixture != null ? fixture : defaultFixture();
            w = dir.resolve("weights.pth");
            cfg = dir.resolve("model.yaml");
            NpyArray x = Npy.read(dir.resolve("input_tensor.npy"));
            input = x.data();
            shape = x.shape();
            if (Files.isRegularFile(dir.resolve("expected_raw.npy"))) {
                reference = Npy.read(dir.resolve("expected_raw.npy")).data();
            }
        } else {
            if (inputSize <= 0 || inputSize % 14 != 0) {
                throw new LoraException("--input-size: must be a positive multiple of 14, got " + inputSize);
            }
            shape = new long[] {1, 3, inputSize, inputSize};
            input = new float[3 * inputSize * inputSize];
            for (int i = 0; i < input.length; i++) {
                input[i] = (float) Math.sin(i * 0.01); // deterministic, roughly ImageNet-normalised range
            }
        }
        out.println();
        out.printf(Locale.ROOT, "checks: %s, input %s, loss sum(depth^2)%n", dir != null ? dir : w, Arrays.toString(shape));
        ResolvedModel model = ModelResolver.resolve(new ModelSource.Weights(w, cfg));
        DeviceParity.Pass cpu = DeviceParity.run(model::instantiate, input, new Shape(shape), Device.cpu());
        if (reference != null) {
            double e = DeviceParity.relativeError(cpu.depth(), reference);
            line(out, problems, e <= REFERENCE_TOLERANCE, "cpu forward vs official PyTorch output", e, REFERENCE_TOLERANCE,
                    cpu.seconds(), "the CPU libtorch computes the model wrongly: report it with the doctor output");
        }
        boolean finite = allFinite(cpu.depth()) && allFinite(cpu.inputGrad()) && allFinite(cpu.paramGrad())
                && norm(cpu.inputGrad()) > 0 && norm(cpu.paramGrad()) > 0;
        out.printf(Locale.ROOT, "  %s cpu backward: |d loss/d input| %.4g, |d loss/d %s| %.4g (finite, non-zero)%n",
                finite ? "PASS" : "FAIL", norm(cpu.inputGrad()), cpu.paramName(), norm(cpu.paramGrad()));
        if (!finite) {
            problems.add(new NativeDiagnosis.Problem("cpu backward gave non-finite or zero gradients",
                    "report it with the doctor output"));
        }
        if (common.device != CommonOptions.DeviceChoice.cpu) {
            for (int i = 0; i < f.usableGpus(); i++) {
                Device d = Device.gpu(i);
                DeviceParity.Pass gpu;
                try {
                    gpu = DeviceParity.run(model::instantiate, input, new Shape(shape), d);
                } catch (RuntimeException e) {
                    out.printf(Locale.ROOT, "  FAIL %s: %s%n", d, e.getMessage());
                    problems.add(new NativeDiagnosis.Problem(d + " failed to run the model (" + e.getMessage() + ")",
                            "check nvidia-smi (memory, other processes) and the driver; run with --verbose"));
                    continue;
                }
                String fix = "the GPU result differs from the CPU: check the driver (NativeDiagnosis) and report it";
                double ef = DeviceParity.relativeError(gpu.depth(), cpu.depth());
                line(out, problems, ef <= tolerance, d + " forward vs cpu", ef, tolerance, gpu.seconds(), fix);
                double eg = DeviceParity.relativeError(gpu.inputGrad(), cpu.inputGrad());
                line(out, problems, eg <= tolerance, d + " d loss/d input vs cpu", eg, tolerance, gpu.seconds(), fix);
                double ep = DeviceParity.relativeError(gpu.paramGrad(), cpu.paramGrad());
                line(out, problems, ep <= tolerance, d + " d loss/d " + gpu.paramName() + " vs cpu", ep, tolerance,
                        gpu.seconds(), fix);
            }
        }
        return problems;
    }

    private static void line(PrintWriter out, List<NativeDiagnosis.Problem> problems, boolean pass, String what,
                             double err, double tol, double seconds, String fix) {
        out.printf(Locale.ROOT, "  %s %s: relative L2 error %.3g (tolerance %.0e; %.2f s)%n", pass ? "PASS" : "FAIL",
                what, err, tol, seconds);
        if (!pass) {
            problems.add(new NativeDiagnosis.Problem(String.format(Locale.ROOT, "%s: relative error %.3g > %.0e",
                    what, err, tol), fix));
        }
    }

    /** fixtures/da2-tiny in the current folder, else in the project the jar (or classes folder) sits in. */
    static Path defaultFixture() {
        Path here = Paths.get(DEFAULT_FIXTURE);
        if (Files.isDirectory(here)) {
            return here;
        }
        try {
            Path code = Paths.get(DoctorCommand.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            Path project = code.getParent() == null ? null : code.getParent().getParent(); // target/lora.jar, target/classes
            if (project != null && Files.isDirectory(project.resolve(DEFAULT_FIXTURE))) {
                return project.resolve(DEFAULT_FIXTURE);
            }
        } catch (URISyntaxException | RuntimeException e) {
            // fall through to the error
        }
        throw new LoraException(DEFAULT_FIXTURE + ": not found here or next to the jar; give --fixture DIR or --weights FILE");
    }

    private static boolean allFinite(float[] v) {
        for (float x : v) {
            if (!Float.isFinite(x)) {
                return false;
            }
        }
        return true;
    }

    private static double norm(float[] v) {
        double s = 0;
        for (float x : v) {
            s += (double) x * x;
        }
        return Math.sqrt(s);
    }

    private static String orUnset(String v) {
        return v == null ? "(unset)" : v;
    }

    private static String yes(boolean b) {
        return b ? "yes" : "no";
    }

    /** "124" → "12.4". */
    static String cudaVersion(String v) {
        return v.length() >= 2 ? v.substring(0, v.length() - 1) + "." + v.substring(v.length() - 1) : v;
    }
}
