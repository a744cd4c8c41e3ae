package com.loratool.config;

import com.loratool.LoraException;

/**
 * A value of a run config that its section refuses: {@link #key} is the full dotted key
 * ({@code lora.alpha}, {@code data.augment.rotate_degrees}), so the loader can say where the value
 * came from (the file and line, or the {@code --set}). The message reads {@code "<key>: <rule>"}.
 */
public final class ConfigError extends LoraException {
    private final String key;
    private final String problem;

    public ConfigError(String key, String problem) {
        super(key + ": " + problem);
        this.key = key;
        this.problem = problem;
    }

    /** The dotted key whose value is refused. */
    public String key() {
        return key;
    }

    /** What is wrong with it (the message without the key). */
    public String problem() {
        return problem;
    }
}
