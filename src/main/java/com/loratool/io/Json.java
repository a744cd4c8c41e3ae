package com.loratool.io;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectWriter;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;

/**
 * The toolkit's Jackson mappers, configured once (ObjectMappers are thread-safe once configured;
 * never reconfigure these: derive an {@code ObjectReader}/{@code ObjectWriter} instead).
 *
 * <ul>
 *   <li>{@link #JSON}: plain JSON (safetensors headers, split.json, reports, PEFT files).
 *   <li>{@link #SNAKE}: JSON with snake_case property names, unknown properties ignored (files the
 *       toolkit writes from its own types: adapter_config.json, trainer state).
 *   <li>{@link #YAML}: YAML with snake_case keys, unknown keys and duplicate keys are errors (run
 *       configs, model.yaml).
 * </ul>
 */
public final class Json {
    private Json() {}

    public static final ObjectMapper JSON = new ObjectMapper();

    public static final ObjectMapper SNAKE = new ObjectMapper()
            .setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

    public static final ObjectMapper YAML = new ObjectMapper(YAMLFactory.builder()
            .disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER)
            .enable(YAMLGenerator.Feature.MINIMIZE_QUOTES)
            .build())
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            .setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
            .disable(SerializationFeature.FAIL_ON_EMPTY_BEANS);

    /** {@code mapper}'s indented writer. */
    public static ObjectWriter pretty(ObjectMapper mapper) {
        return mapper.writer().with(SerializationFeature.INDENT_OUTPUT);
    }

    /** {@code value} as indented plain JSON. */
    public static String pretty(Object value) {
        try {
            return pretty(JSON).writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}
