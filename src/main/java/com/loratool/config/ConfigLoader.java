package com.loratool.config;

import com.loratool.io.InputFiles;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JavaType;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.exc.InvalidFormatException;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.databind.introspect.BeanPropertyDefinition;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.loratool.KeySuggester;
import com.loratool.LoraException;
import com.loratool.io.AtomicFiles;
import com.loratool.io.Json;
import java.io.IOException;
import java.io.InputStream;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * Reads a run config from YAML, applies {@code --set key=value} overrides, binds it to
 * {@link RunConfig} rejecting unknown keys (with the closest valid name) and validates it. Strict:
 * the file must be a regular file of at most {@link #MAX_BYTES}, a key may appear once per mapping
 * (a second {@code lr:} or {@code train:} is an error), every number is checked against its range by
 * its section; each error names where the value came from: {@code <file>:<line>} or the
 * {@code --set key=value} ({@link ConfigOrigins}).
 */
public final class ConfigLoader {
    private ConfigLoader() {}

    /** Largest config file read: far above any real config, far below what could exhaust memory. */
    public static final int MAX_BYTES = 1 << 20;

    public static RunConfig load(Path file, List<String> overrides) {
        ObjectMapper m = Json.YAML;
        String text = read(file);
        JsonNode root;
        try {
            root = m.readTree(text);
        } catch (JsonProcessingException e) {
            throw new LoraException(parseError(file, e));
        }
        if (root == null || root.isMissingNode() || root.isNull()) {
            root = m.createObjectNode();
        }
        if (!root.isObject()) {
            throw LoraException.file(file, "expected a mapping with sections model, data, lora, train");
        }
        ObjectNode tree = (ObjectNode) root;
        ConfigOrigins origins = ConfigOrigins.of(file, text);
        for (String o : overrides == null ? List.<String>of() : overrides) {
            origins.set(applyOverride(m, tree, o), o);
        }
        RunConfig c = bind(tree, RunConfig.class, "", origins).withSource(file);
        c.validate();
        return c;
    }

    /** The file's text: a regular file (no FIFO or device), at most {@link #MAX_BYTES}, UTF-8. */
    static String read(Path file) {
        if (!Files.exists(file)) {
            throw LoraException.file(file, "no such config file");
        }
        if (Files.isDirectory(file)) {
            throw LoraException.file(file, "is a folder, not a config file");
        }
        InputFiles.regularFile(file);
        byte[] bytes;
        try (InputStream in = Files.newInputStream(file)) {
            bytes = in.readNBytes(MAX_BYTES + 1);
        } catch (NoSuchFileException e) {
            throw LoraException.file(file, "no such config file");
        } catch (IOException e) {
            throw LoraException.file(file, "cannot read: " + firstLine(e.getMessage()));
        }
        if (bytes.length > MAX_BYTES) {
            throw LoraException.file(file, "larger than " + MAX_BYTES / 1024 + " KiB; not a run config");
        }
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            throw LoraException.file(file, "not UTF-8 text");
        }
    }

    /** "file:line: train.lr: duplicate key ..." or "file: not valid YAML: ... (line n)". */
    private static String parseError(Path file, JsonProcessingException e) {
        String msg = firstLine(e.getOriginalMessage());
        int line = e.getLocation() != null ? e.getLocation().getLineNr() : -1;
        if (msg.startsWith("Duplicate field") && e.getProcessor() instanceof JsonParser p) {
            String key = ConfigOrigins.dotted(p.getParsingContext()); // the context is at the repeated key
            return file + (line > 0 ? ":" + line : "") + ": " + key + ": duplicate key (each key once; remove one of them)";
        }
        return file + ": not valid YAML: " + msg + (line > 0 ? " (line " + line + ")" : "");
    }

    /** Applies "a.b.c=value" (value parsed as YAML, so lists like [qkv,proj] work); returns the key. */
    static String applyOverride(ObjectMapper m, ObjectNode tree, String override) {
        int eq = override.indexOf('=');
        if (eq <= 0) {
            throw new LoraException("--set " + override + ": expected key=value, e.g. train.lr=3e-4");
        }
        String key = override.substring(0, eq).trim();
        String text = override.substring(eq + 1);
        JsonNode value;
        try {
            value = text.isEmpty() ? m.getNodeFactory().nullNode() : m.readTree(text);
        } catch (JsonProcessingException e) {
            throw new LoraException("--set " + override + ": value is not valid YAML");
        }
        if (value == null || value.isMissingNode()) {
            value = m.getNodeFactory().nullNode();
        }
        String[] parts = key.split("\\.");
        ObjectNode node = tree;
        for (int i = 0; i < parts.length - 1; i++) {
            JsonNode child = node.get(parts[i]);
            if (child == null || !child.isObject()) {
                child = node.putObject(parts[i]);
            }
            node = (ObjectNode) child;
        }
        node.set(parts[parts.length - 1], value);
        return key;
    }

    /**
     * Binds {@code tree} (the value at dotted {@code prefix}) to {@code type}; every error names the
     * key and where its value came from.
     */
    private static <T> T bind(JsonNode tree, Class<T> type, String prefix, ConfigOrigins origins) {
        ObjectMapper m = Json.YAML;
        Function<String, String> full = p -> prefix.isEmpty() ? p : p.isEmpty() ? prefix : prefix + "." + p;
        checkIntegers(m, tree, m.constructType(type), prefix, path -> origins.of(path) + ": " + path);
        try {
            return m.treeToValue(tree, type);
        } catch (UnrecognizedPropertyException e) {
            String path = full.apply(dotted(e));
            List<String> known = e.getKnownPropertyIds() == null ? List.of()
                    : e.getKnownPropertyIds().stream().map(Object::toString).sorted().collect(Collectors.toList());
            throw new LoraException(origins.of(path) + ": " + path + ": "
                    + KeySuggester.unknownKeyMessage(e.getPropertyName(), known));
        } catch (InvalidFormatException e) {
            String path = full.apply(dotted(e));
            if (e.getTargetType() != null && e.getTargetType().isEnum()) {
                List<String> allowed = Arrays.stream(e.getTargetType().getEnumConstants()).map(Object::toString).toList();
                String got = String.valueOf(e.getValue());
                String hint = KeySuggester.closest(got, allowed);
                throw new LoraException(origins.of(path) + ": " + path + ": must be one of " + allowed + ", got " + got
                        + (hint != null ? " (did you mean " + hint + "?)" : ""));
            }
            throw wrongType(origins, path, e);
        } catch (MismatchedInputException e) {
            throw wrongType(origins, full.apply(dotted(e)), e);
        } catch (JsonProcessingException e) {
            for (Throwable c = e; c != null; c = c.getCause()) {
                if (c instanceof ConfigError ce) {
                    throw new LoraException(origins.of(ce.key()) + ": " + ce.getMessage());
                }
                if (c instanceof LoraException le) {
                    String path = full.apply(dotted((JsonMappingException) e));
                    throw new LoraException(origins.of(path) + ": " + le.getMessage());
                }
            }
            String path = e instanceof JsonMappingException j ? full.apply(dotted(j)) : prefix;
            throw new LoraException(origins.of(path) + ": " + (path.isEmpty() ? "" : path + ": ")
                    + firstLine(e.getOriginalMessage()));
        }
    }

    private static LoraException wrongType(ConfigOrigins origins, String path, MismatchedInputException e) {
        String type = e.getTargetType() == null ? "another type" : e.getTargetType().getSimpleName();
        return new LoraException(origins.of(path) + ": " + path + ": wrong type of value (expected " + friendly(type) + ")");
    }

    /** Parser messages may quote the offending text over several lines; errors are one line. */
    private static String firstLine(String message) {
        String m = String.valueOf(message).strip();
        int nl = m.indexOf('\n');
        return (nl < 0 ? m : m.substring(0, nl)).replace('\r', ' ').strip();
    }

    /**
     * Integer keys bind exactly: Jackson would truncate 1.5 to 1 and report 1e10 without the key.
     * Walks the tree along the target type's properties; a fractional value or one outside the
     * key's type range is refused naming the key ({@code where} maps the dotted path to
     * "--set key" or "file: key").
     */
    static void checkIntegers(ObjectMapper m, JsonNode node, JavaType type, String path, Function<String, String> where) {
        if (node == null || node.isNull()) {
            return;
        }
        Class<?> raw = type.getRawClass();
        if (raw == int.class || raw == Integer.class || raw == long.class || raw == Long.class) {
            if (!node.isNumber()) {
                return; // Jackson's own type error names the key
            }
            if (node.isFloatingPointNumber() && !Double.isFinite(node.doubleValue())) {
                throw new LoraException(where.apply(path) + ": expected an integer, got " + node.asText());
            }
            BigDecimal v = node.decimalValue();
            boolean isLong = raw == long.class || raw == Long.class;
            if (v.signum() != 0 && v.stripTrailingZeros().scale() > 0) {
                throw new LoraException(where.apply(path) + ": expected an integer, got " + node.asText());
            }
            BigInteger min = BigInteger.valueOf(isLong ? Long.MIN_VALUE : Integer.MIN_VALUE);
            BigInteger max = BigInteger.valueOf(isLong ? Long.MAX_VALUE : Integer.MAX_VALUE);
            BigInteger i = v.toBigInteger();
            if (i.compareTo(max) > 0 || i.compareTo(min) < 0) {
                throw new LoraException(where.apply(path) + ": " + i + " is out of range (at "
                        + (i.signum() > 0 ? "most " + max : "least " + min) + ")");
            }
            return;
        }
        if (type.isCollectionLikeType() && node.isArray()) {
            for (int k = 0; k < node.size(); k++) {
                checkIntegers(m, node.get(k), type.getContentType(), path + "[" + k + "]", where);
            }
            return;
        }
        if (!node.isObject() || raw.isPrimitive() || raw.getName().startsWith("java.")) {
            return;
        }
        for (BeanPropertyDefinition p : m.getDeserializationConfig().introspect(type).findProperties()) {
            JsonNode child = node.get(p.getName());
            if (child != null) {
                checkIntegers(m, child, p.getPrimaryType(), path.isEmpty() ? p.getName() : path + "." + p.getName(), where);
            }
        }
    }

    private static String friendly(String javaType) {
        return switch (javaType) {
            case "int", "Integer", "long", "Long" -> "an integer";
            case "double", "Double", "float", "Float" -> "a number";
            case "boolean", "Boolean" -> "true or false";
            case "List", "ArrayList" -> "a list";
            case "String" -> "a string";
            default -> "a mapping";
        };
    }

    private static String dotted(JsonMappingException e) {
        return e.getPath().stream()
                .map(r -> r.getFieldName() != null ? r.getFieldName() : "[" + r.getIndex() + "]")
                .collect(Collectors.joining("."))
                .replace(".[", "[");
    }

    /**
     * {@code data} with {@code --set data.key=value} overrides (eval, predict); other keys are
     * errors. Bound and checked like the data section of a config file; setting one key of the size
     * rule unsets the other two ({@link DataConfig#clearedBy}).
     */
    public static DataConfig overrideData(DataConfig data, List<String> overrides) {
        if (overrides == null || overrides.isEmpty()) {
            return data;
        }
        ObjectMapper m = Json.YAML;
        ObjectNode tree = m.createObjectNode();
        tree.set("data", m.valueToTree(data));
        ConfigOrigins origins = ConfigOrigins.of(null, "");
        for (String o : overrides) {
            String key = applyOverride(m, tree, o);
            if (!key.startsWith("data.")) {
                throw new LoraException("--set " + o + ": only data.* keys can be changed here");
            }
            for (String other : data.clearedBy(key.substring("data.".length()))) {
                ((ObjectNode) tree.get("data")).putNull(other);
            }
            origins.set(key, o);
        }
        return bind(tree.get("data"), DataConfig.class, "data", origins);
    }

    /** Writes the resolved config atomically. */
    public static void save(RunConfig c, Path file) {
        AtomicFiles.writeString(file, c.toYaml());
    }
}
