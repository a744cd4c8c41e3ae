package com.loratool.config;

import com.loratool.LoraException;
import com.loratool.config.ConfigLoader;
import com.loratool.config.DataConfig;
import com.loratool.config.RunFolder;
import java.nio.file.Path;
import java.util.List;

/**
 * The data settings eval and predict --checkpoint use for a checkpoint: the run's typed
 * {@code data:} section (all keys: folders, suffixes, depth units and scale, npz key, size rule),
 * with {@code --data DIR} replacing data.root, {@code --set data.key=value} overrides and
 * {@code --input-size N} replacing the size rule. Without a run folder: the defaults for
 * {@code --data} (input size 518).
 */
public final class CheckpointData {
    private CheckpointData() {}

    public static DataConfig of(RunFolder run, Path dataOption, List<String> sets, Integer inputSize) {
        checkInputSize(inputSize);
        DataConfig dc = run.config() != null ? run.config().data : null;
        if (dataOption != null) {
            dc = dc != null ? dc.with("root", dataOption) : DataConfig.defaults(dataOption);
        }
        if (dc == null) {
            dc = sizeOnly(run);
            if (sets != null && sets.stream().anyMatch(s -> s.startsWith("data.root="))) {
                dc = ConfigLoader.overrideData(dc, sets);
            } else {
                throw new LoraException("--data: required (the checkpoint is not inside a run folder with a config.yaml)");
            }
        } else {
            dc = ConfigLoader.overrideData(dc, sets);
        }
        return inputSize != null ? dc.with("input_size", inputSize) : dc;
    }

    /** The size rule alone (predict): the run's, or input size 518; {@code --input-size} wins. */
    public static DataConfig sizeRule(RunFolder run, Integer inputSize) {
        checkInputSize(inputSize);
        DataConfig dc = sizeOnly(run);
        return inputSize != null ? dc.with("input_size", inputSize) : dc;
    }

    private static void checkInputSize(Integer inputSize) {
        if (inputSize != null && inputSize < 14) {
            throw new LoraException("--input-size " + inputSize + ": must be at least 14");
        }
    }

    private static DataConfig sizeOnly(RunFolder run) {
        return run.config() != null ? run.config().data : DataConfig.defaults(Path.of("."));
    }
}
