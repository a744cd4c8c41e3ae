package com.loratool.train;

import com.loratool.LoraException;
import com.loratool.config.DataConfig;
import com.loratool.config.RunConfig;
import com.loratool.data.Dataset;
import java.nio.file.Files;

/** Opens the config's typed {@code data:} section with the data stage: its samples, as {@link TrainingData}. */
public final class TrainingDataLoader {
    private TrainingDataLoader() {}

    /** The opened data set and its prepared samples; nothing written (split.json once the run is accepted). */
    public record Opened(Dataset dataset, TrainingData data) {}

    public static Opened open(RunConfig cfg) {
        DataConfig dc = cfg.data;
        if (!Files.isDirectory(dc.rootPath())) {
            throw LoraException.file(dc.rootPath(), "data folder not found (data.root in " + cfg.source + ")");
        }
        return of(Dataset.open(dc));
    }

    /** An already opened data set (e.g. one fold of {@code lora sweep}, sharing its decoded samples). */
    public static Opened of(Dataset ds) {
        return new Opened(ds, new TrainingData(ds.train(), ds.val(), ds::trainEpoch));
    }
}
