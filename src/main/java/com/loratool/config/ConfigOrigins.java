package com.loratool.config;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonStreamContext;
import com.fasterxml.jackson.core.JsonToken;
import com.loratool.io.Json;
import java.io.IOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Where each value of a run came from, for error messages: {@code "<file>:<line>"} for a key of
 * the config file, {@code "--set key=value"} for a command-line override. A key not in the file
 * (a default) is reported against the file.
 */
final class ConfigOrigins {
    private final Path file;
    private final Map<String, Integer> lines;
    private final Map<String, String> sets = new LinkedHashMap<>();

    private ConfigOrigins(Path file, Map<String, Integer> lines) {
        this.file = file;
        this.lines = lines;
    }

    /** The lines of every key of {@code text} (already parsed once, so well-formed). */
    static ConfigOrigins of(Path file, String text) {
        Map<String, Integer> lines = new HashMap<>();
        try (JsonParser p = Json.YAML.getFactory().createParser(text)) {
            for (JsonToken t = p.nextToken(); t != null; t = p.nextToken()) {
                if (t == JsonToken.FIELD_NAME) {
                    lines.putIfAbsent(dotted(p.getParsingContext()), p.currentTokenLocation().getLineNr());
                }
            }
        } catch (IOException e) {
            // lines are a courtesy: a key without one is reported against the file
        }
        return new ConfigOrigins(file, lines);
    }

    /** Records that {@code key} (dotted) was set by {@code --set <override>}. */
    void set(String key, String override) {
        sets.put(key, override);
    }

    /** Where the value at dotted {@code key} came from, e.g. {@code "run.yaml:12"} or {@code "--set lora.r=0"}. */
    String of(String key) {
        for (String k = key; k != null; k = parent(k)) {
            String s = sets.get(k);
            if (s != null) {
                return "--set " + s;
            }
        }
        for (Map.Entry<String, String> s : sets.entrySet()) {
            if (s.getKey().startsWith(key + ".")) {
                return "--set " + s.getValue();
            }
        }
        for (String k = key; k != null; k = parent(k)) {
            Integer line = lines.get(k);
            if (line != null) {
                return file + ":" + line;
            }
        }
        return file == null ? "--set" : file.toString();
    }

    private static String parent(String key) {
        int dot = Math.max(key.lastIndexOf('.'), key.lastIndexOf('['));
        return dot < 0 ? null : key.substring(0, dot);
    }

    static String dotted(JsonStreamContext ctx) {
        StringBuilder sb = new StringBuilder();
        for (JsonStreamContext c = ctx; c != null && !c.inRoot(); c = c.getParent()) {
            if (c.inArray()) {
                sb.insert(0, "[" + c.getCurrentIndex() + "]");
            } else {
                if (sb.length() > 0 && sb.charAt(0) != '[') {
                    sb.insert(0, '.');
                }
                sb.insert(0, c.getCurrentName() == null ? "" : c.getCurrentName());
            }
        }
        return sb.toString();
    }
}
