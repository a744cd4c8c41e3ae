package com.loratool.io;

import java.nio.file.Path;

/**
 * The toolkit's one cache folder: {@code -Dlora.cache=DIR}, else {@code $LORA_CACHE}, else
 * {@code $XDG_CACHE_HOME/lora}, else {@code ~/.cache/lora}. It holds the original model's cached
 * predictions ({@code predictions/}, eval) and the unpacked native libraries ({@code natives/},
 * {@link NativeLibraries}). Everything in it can be deleted at any time; it is rebuilt on use.
 */
public final class CacheDir {
    /** System property that sets the folder (wins over the environment). */
    public static final String PROPERTY = "lora.cache";
    /** Environment variable that sets the folder. */
    public static final String ENV = "LORA_CACHE";
    /** How to move it, in messages. */
    public static final String SETTING = "LORA_CACHE=DIR (or -D" + PROPERTY + "=DIR)";

    private CacheDir() {}

    /** The cache folder (it may not exist yet). */
    public static Path root() {
        String set = explicit();
        if (set != null) {
            return Path.of(set);
        }
        String xdg = System.getenv("XDG_CACHE_HOME");
        return xdg != null && !xdg.isBlank() ? Path.of(xdg, "lora") : Path.of(System.getProperty("user.home"), ".cache", "lora");
    }

    /** The folder the user set, or null when the default is in use. */
    public static String explicit() {
        String p = System.getProperty(PROPERTY);
        if (p != null && !p.isBlank()) {
            return p;
        }
        String e = System.getenv(ENV);
        return e != null && !e.isBlank() ? e : null;
    }
}
