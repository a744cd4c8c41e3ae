package com.loratool.train;

import com.loratool.LoraException;
import com.loratool.config.DataConfig;
import com.loratool.config.RunConfig;
import com.loratool.data.Dataset;
import com.loratool.data.Sample;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Opens the config's typed {@code data:} section with the data stage and turns its samples into {@link TrainingData}. */
public final class TrainingDataLoader {
    private TrainingDataLoader() {}

    /** Opens the data set, writes {@code <runDir>/split.json}, prepares the samples. */
    public static TrainingData load(RunConfig cfg, Path runDir) {
        Opened o = open(cfg);
        o.dataset().writeSplit(runDir);
        return o.data();
    }

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
        List<TrainSample> train = convert(ds.train());
        List<TrainSample> val = convert(ds.val());
        return new Opened(ds, new TrainingData(train, val, epoch -> convert(ds.trainEpoch(epoch))));
    }

    static List<TrainSample> convert(List<Sample> samples) {
        List<TrainSample> out = new ArrayList<>(samples.size());
        for (Sample s : samples) {
            float[] m = new float[s.mask().length];
            for (int i = 0; i < m.length; i++) {
                m[i] = s.mask()[i] ? 1f : 0f;
            }
            out.add(new TrainSample(s.stem(), s.h(), s.w(), s.image(), s.depth(), m));
        }
        return out;
    }
}
