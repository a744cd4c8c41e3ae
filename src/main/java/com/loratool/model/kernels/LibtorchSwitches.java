package com.loratool.model.kernels;

import ai.djl.pytorch.jni.LibUtils;
import com.sun.jna.Function;
import com.sun.jna.NativeLibrary;
import com.sun.jna.Pointer;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * libtorch's own global switches that DJL 0.35 has no binding for, called through JNA on the
 * exported C++ symbols of the libtorch DJL loaded:
 * <ul>
 *   <li>{@code at::globalContext().setUserEnabledMkldnn(bool)}: oneDNN (MKL-DNN) for convolutions,
 *       what {@code torch.backends.mkldnn.enabled} sets in Python;</li>
 *   <li>{@code at::globalContext().setUserEnabledNNPACK(bool)}: NNPACK convolutions
 *       ({@code torch.backends.nnpack.set_flags});</li>
 *   <li>{@code FLAGS_caffe2_log_level} of libc10: libtorch's own log ({@code LOG(WARNING)} lines such
 *       as "Could not initialize NNPACK!"), what {@code TORCH_CPP_LOG_LEVEL} sets at start-up.</li>
 * </ul>
 * Hand-written because no library exposes these: they are one call each. A member function of
 * {@code at::Context} takes the object as its first argument (the Itanium C++ ABI every Linux and
 * macOS libtorch uses). Where a symbol is missing (another libtorch build, Windows), the switch is
 * reported as unavailable and nothing is called.
 */
public final class LibtorchSwitches {
    /** c10's log levels: INFO 0, WARNING 1, ERROR 2. */
    public static final int LOG_WARNING = 1;
    public static final int LOG_ERROR = 2;

    private static volatile boolean verboseLog;

    private final NativeLibrary torch;
    private final NativeLibrary c10;

    private LibtorchSwitches(NativeLibrary torch, NativeLibrary c10) {
        this.torch = torch;
        this.c10 = c10;
    }

    /** The switches of the libtorch DJL loaded (call after the engine has loaded). */
    public static LibtorchSwitches loaded() {
        String dir = null;
        try {
            dir = LibUtils.getLibtorchPath();
        } catch (RuntimeException | LinkageError e) {
            // not loaded through LibUtils: look the libraries up by name below
        }
        return new LibtorchSwitches(open(dir, "torch_cpu"), open(dir, "c10"));
    }

    private static NativeLibrary open(String dir, String name) {
        try {
            if (dir != null) {
                Path file = Path.of(dir, System.mapLibraryName(name));
                if (Files.isRegularFile(file)) {
                    return NativeLibrary.getInstance(file.toString()); // the copy already loaded: same handle
                }
            }
            return NativeLibrary.getInstance(name);
        } catch (UnsatisfiedLinkError e) {
            return null;
        }
    }

    private Function function(NativeLibrary lib, String symbol) {
        if (lib == null) {
            return null;
        }
        try {
            return lib.getFunction(symbol);
        } catch (UnsatisfiedLinkError e) {
            return null;
        }
    }

    private Pointer context() {
        Function f = function(torch, "_ZN2at13globalContextEv");
        return f == null ? null : f.invokePointer(new Object[0]);
    }

    /** A backend switch of {@code at::Context}. */
    public enum Backend {
        ONEDNN("oneDNN", "_ZNK2at7Context17userEnabledMkldnnEv", "_ZN2at7Context20setUserEnabledMkldnnEb"),
        NNPACK("NNPACK", "_ZNK2at7Context17userEnabledNNPACKEv", "_ZN2at7Context20setUserEnabledNNPACKEb");

        private final String label;
        private final String getter;
        private final String setter;

        Backend(String label, String getter, String setter) {
            this.label = label;
            this.getter = getter;
            this.setter = setter;
        }

        public String label() {
            return label;
        }

        /** The backend of {@code label} ("oneDNN"), or null for none. */
        public static Backend ofLabel(String label) {
            for (Backend b : values()) {
                if (b.label.equals(label)) {
                    return b;
                }
            }
            return null;
        }
    }

    /** Whether libtorch has the switch for {@code b}. */
    public boolean available(Backend b) {
        return context() != null && function(torch, b.getter) != null && function(torch, b.setter) != null;
    }

    /** Whether {@code b} is enabled; true when the switch is unavailable (libtorch's default). */
    public boolean enabled(Backend b) {
        Pointer ctx = context();
        Function get = function(torch, b.getter);
        if (ctx == null || get == null) {
            return true;
        }
        return (get.invokeInt(new Object[] {ctx}) & 0xff) != 0; // a C++ bool comes back in the low byte
    }

    /** Switches {@code b} on or off; false when libtorch has no such switch. */
    public boolean set(Backend b, boolean on) {
        Pointer ctx = context();
        Function set = function(torch, b.setter);
        if (ctx == null || set == null) {
            return false;
        }
        set.invokeVoid(new Object[] {ctx, on});
        return enabled(b) == on;
    }

    /**
     * libtorch's own log: warnings and above when {@code verbose}, else errors only (the NNPACK
     * lines of a CPU it does not support are not news). False when libc10 has no such flag.
     */
    public boolean nativeLog(boolean verbose) {
        if (c10 == null) {
            return false;
        }
        try {
            Pointer level = c10.getGlobalVariableAddress("FLAGS_caffe2_log_level");
            level.setInt(0, verbose ? LOG_WARNING : LOG_ERROR);
            return true;
        } catch (UnsatisfiedLinkError e) {
            return false;
        }
    }

    /**
     * Whether libtorch's own log shows warnings ({@code --verbose}); applied by
     * {@link CertifiedEngineProvider} at the next use of the engine.
     */
    public static void verboseNativeLog(boolean verbose) {
        verboseLog = verbose;
    }

    /** The log setting asked for ({@link #verboseNativeLog}); false by default. */
    public static boolean verboseNativeLog() {
        return verboseLog;
    }
}
