package com.loratool.train;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.loratool.config.DataConfig;
import com.loratool.config.TrainSection;
import java.lang.reflect.RecordComponent;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Every key of the data and train sections is either part of the experiment (--resume refuses a
 * change) or accepted on --resume, never both and never forgotten: a new key must be placed.
 */
class ResumeCheckKeysTest {
    private static List<String> keys(Class<? extends Record> type) {
        List<String> out = new ArrayList<>();
        for (RecordComponent rc : type.getRecordComponents()) {
            out.add(rc.getAccessor().getAnnotation(JsonProperty.class).value());
        }
        return out;
    }

    private static void assertPartition(List<String> all, List<String> same, List<String> accepted) {
        List<String> both = Stream.concat(same.stream(), accepted.stream()).sorted().toList();
        assertEquals(all.stream().sorted().toList(), both);
    }

    @Test
    void everyKeyIsTheExperimentsOrAccepted() {
        assertPartition(keys(DataConfig.class), ResumeCheck.SAME_DATA, ResumeCheck.ACCEPTED_DATA);
        assertPartition(keys(TrainSection.class), ResumeCheck.SAME_TRAIN, ResumeCheck.ACCEPTED_TRAIN);
    }
}
