package com.loratool.config;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.loratool.KeySuggester;
import com.loratool.LoraException;
import com.loratool.io.Json;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A section of a run config (an immutable record bound from YAML). The one way to change a copy:
 * {@link #with(String, Object)} by YAML key ({@code train.with("batch_size", 1)},
 * {@code data.with("augment.hflip", true)}), which goes through the same binder as the file, so
 * the copy gets the same defaults and the same checks as a loaded section.
 */
public interface Section<T extends Section<T>> {
    /** A copy with {@code key} (snake_case, dotted for nested keys) set to {@code value} (null: the default). */
    default T with(String key, Object value) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put(key, value);
        return with(m);
    }

    /** A copy with several keys changed, in order. */
    @SuppressWarnings("unchecked")
    default T with(Map<String, ?> changes) {
        ObjectNode tree = Json.YAML.valueToTree(this);
        for (Map.Entry<String, ?> e : changes.entrySet()) {
            for (String other : clearedBy(e.getKey())) {
                tree.putNull(other);
            }
            set(tree, e.getKey(), e.getValue());
        }
        return (T) bind(tree, getClass());
    }

    /** Keys that setting {@code key} resets to unset (mutually exclusive keys); none by default. */
    default List<String> clearedBy(String key) {
        return List.of();
    }

    private static void set(ObjectNode tree, String key, Object value) {
        String[] parts = key.split("\\.");
        ObjectNode node = tree;
        for (int i = 0; i < parts.length; i++) {
            if (!node.has(parts[i])) {
                List<String> known = new ArrayList<>();
                node.fieldNames().forEachRemaining(known::add);
                throw new ConfigError(key, KeySuggester.unknownKeyMessage(parts[i], known));
            }
            if (i == parts.length - 1) {
                Object v = value instanceof Path p ? p.toString() : value;
                node.set(parts[i], Json.YAML.valueToTree(v));
            } else {
                JsonNode child = node.get(parts[i]);
                node = child instanceof ObjectNode o ? o : node.putObject(parts[i]);
            }
        }
    }

    /** Binds a section's tree; a refused value is thrown as the section's own {@link LoraException}. */
    static <S> S bind(JsonNode tree, Class<S> type) {
        try {
            return Json.YAML.treeToValue(tree, type);
        } catch (JsonProcessingException e) {
            for (Throwable c = e; c != null; c = c.getCause()) {
                if (c instanceof LoraException l) {
                    throw l;
                }
            }
            throw new IllegalArgumentException(type.getSimpleName() + ": " + e.getOriginalMessage(), e);
        }
    }
}
