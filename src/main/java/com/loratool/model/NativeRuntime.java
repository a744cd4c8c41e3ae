package com.loratool.model;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.engine.EngineException;
import ai.djl.engine.StandardCapabilities;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.pytorch.jni.LibUtils;
import ai.djl.util.Utils;
import ai.djl.util.cuda.CudaUtils;
import com.loratool.LoraException;
import java.io.IOException;
import java.io.InputStream;
import java.lang.management.MemoryUsage;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Locale;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What this process knows about its libtorch: which native jar the build bundles, which libtorch
 * DJL loaded and from where, what it was compiled with (CUDA, cuDNN), which GPUs the CUDA runtime
 * sees and the thread counts. Plain data, so that {@link NativeDiagnosis} can be tested with made-up
 * facts; {@link #detect()} gathers the real ones.
 *
 * <p>How DJL 0.35 / 0.33 find libtorch ({@code ai.djl.pytorch.jni.LibUtils}): {@code PYTORCH_LIBRARY_PATH}
 * (a folder with libtorch.so) wins; else a native jar on the class path ({@code native/lib/pytorch.properties})
 * whose flavour fits the machine (a cpu jar always fits, a cu12x jar only where JNA finds a CUDA 12
 * libcudart), extracted to {@code ~/.djl.ai/pytorch/<version>-<flavour>-<os>-<arch>/}; else a download
 * per {@code PYTORCH_FLAVOR}/{@code PYTORCH_VERSION} (refused offline). A bundled jar that fits is used
 * without looking at {@code PYTORCH_FLAVOR}.
 *
 * @param djlVersion        DJL version of the PyTorch engine on the class path
 * @param engineTorch       libtorch version that engine expects (pytorch-engine.properties)
 * @param bundledFlavor     flavour of the native jar on the class path (cpu, cu124), null when none
 * @param bundledVersion    its libtorch version, null when none
 * @param libraryPathEnv    PYTORCH_LIBRARY_PATH, null when unset
 * @param flavorEnv         PYTORCH_FLAVOR, null when unset
 * @param loadError         why the engine did not load, null when it did
 * @param libtorchVersion   version DJL reports for the loaded libtorch
 * @param nativesDir        folder the libtorch libraries were loaded from
 * @param flavor            flavour of the loaded libtorch (from the cache folder's name, else PYTORCH_FLAVOR)
 * @param cudaBuilt         the loaded libtorch was compiled with CUDA
 * @param cudnnBuilt        ... and with cuDNN
 * @param localTorchVersion {@code __version__} of a PyTorch install whose lib folder was loaded, else null
 * @param cudaRuntime       CUDA runtime version JNA found (libcudart, e.g. "124"), null when none
 * @param gpus              GPUs the CUDA runtime sees (empty without libcudart or GPU)
 * @param driver            NVIDIA driver version from nvidia-smi, null when unknown
 * @param smiGpus           GPU names from nvidia-smi (there even when libcudart is missing)
 * @param threads           PyTorch intra-op threads
 * @param interopThreads    PyTorch inter-op threads
 */
public record NativeRuntime(String djlVersion, String engineTorch, String bundledFlavor, String bundledVersion,
                            String libraryPathEnv, String flavorEnv, String loadError, String libtorchVersion,
                            String nativesDir, String flavor, boolean cudaBuilt, boolean cudnnBuilt,
                            String localTorchVersion, String cudaRuntime, List<Gpu> gpus, String driver,
                            List<String> smiGpus, int threads, int interopThreads) {

    public NativeRuntime {
        gpus = List.copyOf(gpus);
        smiGpus = List.copyOf(smiGpus);
    }

    /** One GPU as the CUDA runtime reports it. */
    public record Gpu(int id, String computeCapability, long usedMb, long totalMb) { }

    /** True when the engine loaded. */
    public boolean loaded() {
        return loadError == null;
    }

    /** Usable GPUs: libtorch built with CUDA and the runtime sees at least one. */
    public int usableGpus() {
        return loaded() && cudaBuilt ? gpus.size() : 0;
    }

    /** An NVIDIA GPU is in the machine (nvidia-smi or the CUDA runtime says so). */
    public boolean gpuPresent() {
        return !gpus.isEmpty() || !smiGpus.isEmpty();
    }

    private static final Pattern CACHE_DIR = Pattern.compile("(\\d+\\.\\d+\\.\\d+(?:-\\d+)?)-((?:cpu|cu\\d+)[a-z0-9-]*?)-(linux|osx|win)-.*");

    /** Flavour from a DJL cache folder name ({@code 2.7.1-20250812-cpu-linux-x86_64} → cpu), else null. */
    static String flavorOfDir(String dir) {
        if (dir == null) {
            return null;
        }
        Matcher m = CACHE_DIR.matcher(Paths.get(dir).getFileName().toString());
        return m.matches() ? m.group(2) : null;
    }

    /** Bundled native jar's flavour and version ({@code native/lib/pytorch.properties}), {null, null} when none. */
    public static String[] bundledNatives() {
        Properties p = resource("native/lib/pytorch.properties");
        if (p == null || p.getProperty("placeholder") != null) {
            return new String[] {null, null};
        }
        String flavor = p.getProperty("flavor");
        String classifier = p.getProperty("classifier", "");
        if (flavor == null && !classifier.isEmpty()) {
            flavor = classifier.split("-")[0];
        }
        return new String[] {flavor, p.getProperty("version")};
    }

    /** {djl_version, pytorch_version} of the PyTorch engine on the class path. */
    public static String[] engineVersions() {
        Properties p = resource("pytorch-engine.properties");
        return p == null ? new String[] {"?", "?"}
                : new String[] {p.getProperty("djl_version", "?"), p.getProperty("pytorch_version", "?")};
    }

    /** Gathers the facts; loads the engine (a load failure is recorded, not thrown). */
    public static NativeRuntime detect() {
        String[] eng = engineVersions();
        String[] bundled = bundledNatives();
        String libEnv = System.getenv("PYTORCH_LIBRARY_PATH");
        String flavorEnv = System.getenv("PYTORCH_FLAVOR");
        String loadError = null;
        String version = null;
        String dir = null;
        String flavor = null;
        boolean cuda = false;
        boolean cudnn = false;
        int threads = 0;
        int interop = 0;
        try {
            Engine engine = Engine.getEngine("PyTorch");
            version = LibUtils.getVersion();
            dir = LibUtils.getLibtorchPath();
            cuda = engine.hasCapability(StandardCapabilities.CUDA);
            cudnn = engine.hasCapability(StandardCapabilities.CUDNN);
            threads = JniUtils.getNumThreads();
            interop = JniUtils.getNumInteropThreads();
            flavor = flavorOfDir(dir);
            if (flavor == null) {
                flavor = flavorEnv != null ? flavorEnv : System.getProperty("PYTORCH_FLAVOR", "cpu-precxx11");
            }
        } catch (Throwable e) { // UnsatisfiedLinkError, EngineException, IllegalStateException: all mean "not loaded"
            Throwable root = e;
            while (root.getCause() != null && root.getCause() != root) {
                root = root.getCause();
            }
            loadError = e.getMessage() + (root != e ? " (" + root + ")" : "");
        }
        String cudaRuntime = null;
        List<Gpu> gpus = new ArrayList<>();
        try {
            int n = CudaUtils.getGpuCount();
            if (n > 0) {
                cudaRuntime = CudaUtils.getCudaVersionString();
            }
            for (int i = 0; i < n; i++) {
                MemoryUsage mem = CudaUtils.getGpuMemory(Device.gpu(i));
                gpus.add(new Gpu(i, CudaUtils.getComputeCapability(i), mem.getCommitted() >> 20, mem.getMax() >> 20));
            }
        } catch (RuntimeException | LinkageError e) {
            // no usable CUDA runtime: gpus stays as far as it got
        }
        List<String> smi = nvidiaSmi("--query-gpu=index,name,memory.total,driver_version", "--format=csv,noheader");
        String driver = null;
        List<String> names = new ArrayList<>();
        for (String line : smi) {
            String[] f = line.split(",\\s*");
            if (f.length >= 4) {
                names.add(f[0] + ": " + f[1] + ", " + f[2]);
                driver = f[3].trim();
            }
        }
        return new NativeRuntime(eng[0], eng[1], bundled[0], bundled[1], libEnv, flavorEnv, loadError, version, dir,
                flavor, cuda, cudnn, localTorchVersion(dir), cudaRuntime, gpus, driver, names, threads, interop);
    }

    /**
     * A one-line error for a libtorch that DJL could not unpack (an {@code EngineException} "Failed to
     * extract PyTorch native library" among {@code e}'s causes): the folder, why, and the setting that
     * moves it; empty for any other failure.
     */
    public static Optional<LoraException> unpackFailure(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof EngineException && String.valueOf(t.getMessage()).startsWith("Failed to extract")) {
                Throwable root = t;
                while (root.getCause() != null && root.getCause() != root) {
                    root = root.getCause();
                }
                String why = root == t ? "" : " (" + root.getClass().getSimpleName() + ": " + root.getMessage() + ")";
                return Optional.of(new LoraException(Utils.getEngineCacheDir("pytorch")
                        + ": cannot unpack libtorch into DJL's cache" + why
                        + "; set DJL_CACHE_DIR=DIR (or ENGINE_CACHE_DIR=DIR) to a writable folder", e));
            }
        }
        return Optional.empty();
    }

    /** {@code __version__} from {@code <dir>/../version.py} (the lib folder of a pip PyTorch install), else null. */
    static String localTorchVersion(String dir) {
        if (dir == null) {
            return null;
        }
        Path py = Paths.get(dir).toAbsolutePath().getParent();
        if (py == null || !Files.isRegularFile(py.resolve("version.py"))) {
            return null;
        }
        try {
            for (String line : Files.readAllLines(py.resolve("version.py"), StandardCharsets.UTF_8)) {
                Matcher m = Pattern.compile("^__version__\\s*=\\s*['\"]([^'\"]+)['\"].*").matcher(line.trim());
                if (m.matches()) {
                    return m.group(1);
                }
            }
        } catch (IOException e) {
            return null;
        }
        return null;
    }

    private static List<String> nvidiaSmi(String... args) {
        List<String> cmd = new ArrayList<>();
        cmd.add("nvidia-smi");
        cmd.addAll(List.of(args));
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            byte[] out = p.getInputStream().readAllBytes();
            if (!p.waitFor(10, TimeUnit.SECONDS) || p.exitValue() != 0) {
                p.destroy();
                return List.of();
            }
            return new String(out, StandardCharsets.UTF_8).lines().filter(l -> !l.isBlank()).toList();
        } catch (IOException e) {
            return List.of(); // no nvidia-smi
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return List.of();
        }
    }

    private static Properties resource(String name) {
        try (InputStream in = Thread.currentThread().getContextClassLoader().getResourceAsStream(name)) {
            if (in == null) {
                return null;
            }
            Properties p = new Properties();
            p.load(in);
            return p;
        } catch (IOException e) {
            return null;
        }
    }

    /** The features libtorch was compiled with, sorted (CUDA, CUDNN, MKL, OPENMP, ...); empty when not loaded. */
    public static Set<String> features() {
        try {
            return new TreeSet<>(JniUtils.getFeatures());
        } catch (Throwable e) {
            return Set.of();
        }
    }

    /** Short name of the loaded natives: "cpu" / "cu124" and where they came from. */
    public String summary() {
        if (!loaded()) {
            return "libtorch not loaded";
        }
        return String.format(Locale.ROOT, "libtorch %s (%s%s) from %s", libtorchVersion, flavor,
                cudaBuilt ? ", CUDA" + (cudnnBuilt ? " + cuDNN" : "") : "", nativesDir);
    }
}
