package com.loratool.train;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.loratool.KeySuggester;
import com.loratool.LoraException;
import com.loratool.config.ConfigLoader;
import com.loratool.config.DataConfig;
import com.loratool.config.RunConfig;
import com.loratool.data.Dataset;
import com.loratool.data.Sample;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/** Binds the config's {@code data:} section to the data stage and turns its samples into {@link TrainingData}. */
public final class TrainingDataLoader {
    private TrainingDataLoader() {}

    /** The {@code data:} section as the data stage's {@link DataConfig}; unknown keys name the closest valid one. */
    public static DataConfig dataConfig(RunConfig cfg) {
        String where = cfg.source == null ? "" : cfg.source + ": ";
        try {
            return ConfigLoader.yaml().treeToValue(cfg.data, DataConfig.class);
        } catch (UnrecognizedPropertyException e) {
            List<String> known = e.getKnownPropertyIds() == null ? List.of()
                    : e.getKnownPropertyIds().stream().map(Object::toString).sorted().collect(Collectors.toList());
            throw new LoraException(where + "data." + path(e) + ": "
                    + KeySuggester.unknownKeyMessage(e.getPropertyName(), known));
        } catch (MismatchedInputException e) {
            throw new LoraException(where + "data." + path(e) + ": wrong type of value");
        } catch (JsonProcessingException e) {
            Throwable c = e.getCause();
            while (c != null && !(c instanceof LoraException)) {
                c = c.getCause();
            }
            if (c != null) {
                throw new LoraException(where + c.getMessage());
            }
            throw new LoraException(where + "data: " + e.getOriginalMessage());
        }
    }

    private static String path(JsonMappingException e) {
        return e.getPath().stream().map(r -> r.getFieldName() != null ? r.getFieldName() : "[" + r.getIndex() + "]")
                .collect(Collectors.joining("."));
    }

    /** Opens the data set, writes {@code <runDir>/split.json}, prepares the samples. */
    public static TrainingData load(RunConfig cfg, Path runDir) {
        DataConfig dc = dataConfig(cfg);
        if (!Files.isDirectory(dc.rootPath())) {
            throw LoraException.file(dc.rootPath(), "data folder not found (data.root in " + cfg.source + ")");
        }
        Dataset ds = Dataset.open(dc);
        ds.writeSplit(runDir);
        List<TrainSample> train = convert(ds.train());
        List<TrainSample> val = convert(ds.val());
        return new TrainingData(train, val, epoch -> convert(ds.trainEpoch(epoch)));
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
