package com.loratool.io;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectReader;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectWriter;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;
import com.loratool.LoraException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

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

    /** {@link #JSON} reading NaN and Infinity (Python's json writes them), so that a refusal names the key; a key twice is refused. */
    private static final ObjectReader NON_NUMERIC = JSON.reader()
            .with(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS).with(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);

    /**
     * A JSON file a user gives (intrinsics, adapter configs), read as a tree: a regular file
     * ({@link InputFiles}), valid JSON (else one line naming the file, the parser's first line and
     * the line number), and every number finite: NaN and Infinity, which JSON does not allow but
     * Python writes, are refused as {@code "<file>: <key>: must be a finite number, got NaN"}.
     */
    public static JsonNode readFinite(Path file) {
        InputFiles.regularFile(file);
        JsonNode n;
        try {
            n = NON_NUMERIC.readTree(Files.readAllBytes(file));
        } catch (JsonProcessingException e) {
            String m = String.valueOf(e.getOriginalMessage()).strip();
            m = m.indexOf('\n') < 0 ? m : m.substring(0, m.indexOf('\n')).strip();
            int line = e.getLocation() != null ? e.getLocation().getLineNr() : -1;
            throw LoraException.file(file, "not valid JSON: " + Printable.of(m) + (line > 0 ? " (line " + line + ")" : ""));
        } catch (IOException e) {
            throw LoraException.file(file, "cannot read: " + e.getMessage(), e);
        }
        if (n == null || n.isMissingNode()) {
            throw LoraException.file(file, "empty (expected a JSON object)");
        }
        String bad = nonFinite(n, "");
        if (bad != null) {
            throw LoraException.file(file, bad);
        }
        return n;
    }

    /** "key: must be a finite number, got NaN" for the first non-finite number under {@code n}, or null. */
    private static String nonFinite(JsonNode n, String path) {
        if (n.isNumber() && n.isFloatingPointNumber() && !Double.isFinite(n.doubleValue())) {
            return (path.isEmpty() ? "" : Printable.of(path) + ": ") + "must be a finite number, got " + n.doubleValue();
        }
        if (n.isObject()) {
            for (var it = n.fields(); it.hasNext(); ) {
                var e = it.next();
                String bad = nonFinite(e.getValue(), path.isEmpty() ? e.getKey() : path + "." + e.getKey());
                if (bad != null) {
                    return bad;
                }
            }
        } else if (n.isArray()) {
            for (int i = 0; i < n.size(); i++) {
                String bad = nonFinite(n.get(i), path + "[" + i + "]");
                if (bad != null) {
                    return bad;
                }
            }
        }
        return null;
    }

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
