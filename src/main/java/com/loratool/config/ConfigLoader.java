package com.loratool.config;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JavaType;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.databind.exc.ValueInstantiationException;
import com.fasterxml.jackson.databind.introspect.BeanPropertyDefinition;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;
import com.loratool.KeySuggester;
import com.loratool.LoraException;
import com.loratool.io.AtomicFiles;
import java.io.IOException;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * Reads a run config from YAML, applies {@code --set key=value} overrides, binds it to
 * {@link RunConfig} rejecting unknown keys (with the closest valid name) and validates it.
 */
public final class ConfigLoader {
    private ConfigLoader() {}

    /** YAML mapper with snake_case keys; unknown keys are errors. */
    public static ObjectMapper yaml() {
        YAMLFactory f = YAMLFactory.builder()
                .disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER)
                .enable(YAMLGenerator.Feature.MINIMIZE_QUOTES)
                .build();
        return new ObjectMapper(f)
                .setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
                .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
                .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
                .disable(SerializationFeature.FAIL_ON_EMPTY_BEANS);
    }

    public static RunConfig load(Path file, List<String> overrides) {
        ObjectMapper m = yaml();
        JsonNode root;
        try {
            root = m.readTree(Files.readString(file));
        } catch (NoSuchFileException e) {
            throw LoraException.file(file, "no such config file");
        } catch (JsonProcessingException e) {
            throw LoraException.file(file, "not valid YAML: " + firstLine(e.getOriginalMessage())
                    + (e.getLocation() != null ? " (line " + e.getLocation().getLineNr() + ")" : ""));
        } catch (IOException e) {
            throw LoraException.file(file, "cannot read: " + firstLine(e.getMessage()));
        }
        if (root == null || root.isMissingNode() || root.isNull()) {
            root = m.createObjectNode();
        }
        if (!root.isObject()) {
            throw LoraException.file(file, "expected a mapping with sections model, data, lora, train");
        }
        ObjectNode tree = (ObjectNode) root;
        List<String> setKeys = new ArrayList<>();
        for (String o : overrides == null ? List.<String>of() : overrides) {
            setKeys.add(applyOverride(m, tree, o));
        }
        RunConfig c = bind(m, tree, file, setKeys).withSource(file);
        c.validate();
        return c;
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

    private static RunConfig bind(ObjectMapper m, ObjectNode tree, Path file, List<String> setKeys) {
        checkIntegers(m, tree, m.constructType(RunConfig.class), "",
                path -> setKeys.contains(path) ? "--set " + path : file + ": " + path);
        try {
            return m.treeToValue(tree, RunConfig.class);
        } catch (UnrecognizedPropertyException e) {
            String path = dotted(e);
            List<String> known = e.getKnownPropertyIds() == null ? List.of()
                    : e.getKnownPropertyIds().stream().map(Object::toString).sorted().collect(Collectors.toList());
            String where = setKeys.contains(path) ? "--set " + path : file + ": " + path;
            throw new LoraException(where + ": " + KeySuggester.unknownKeyMessage(e.getPropertyName(), known));
        } catch (ValueInstantiationException e) {
            Throwable c = e.getCause();
            while (c != null && !(c instanceof LoraException)) {
                c = c.getCause();
            }
            if (c != null) {
                throw LoraException.file(file, c.getMessage());
            }
            throw LoraException.file(file, dotted(e) + ": " + e.getOriginalMessage());
        } catch (MismatchedInputException e) {
            String path = dotted(e);
            String type = e.getTargetType() == null ? "another type" : e.getTargetType().getSimpleName();
            String where = setKeys.contains(path) ? "--set " + path : file + ": " + path;
            throw new LoraException(where + ": wrong type of value (expected " + friendly(type) + ")");
        } catch (JsonProcessingException e) {
            throw LoraException.file(file, firstLine(e.getOriginalMessage()));
        }
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
     * errors. Bound and checked like the data section of a config file.
     */
    public static DataConfig overrideData(DataConfig data, List<String> overrides) {
        if (overrides == null || overrides.isEmpty()) {
            return data;
        }
        ObjectMapper m = yaml();
        ObjectNode tree = m.createObjectNode();
        tree.set("data", m.valueToTree(data));
        List<String> keys = new ArrayList<>();
        for (String o : overrides) {
            String key = applyOverride(m, tree, o);
            if (!key.startsWith("data.")) {
                throw new LoraException("--set " + key + ": only data.* keys can be changed here");
            }
            keys.add(key);
        }
        checkIntegers(m, tree.get("data"), m.constructType(DataConfig.class), "data", path -> "--set " + path);
        try {
            return m.treeToValue(tree.get("data"), DataConfig.class);
        } catch (UnrecognizedPropertyException e) {
            List<String> known = e.getKnownPropertyIds() == null ? List.of()
                    : e.getKnownPropertyIds().stream().map(Object::toString).sorted().collect(Collectors.toList());
            throw new LoraException("--set data." + dotted(e) + ": "
                    + KeySuggester.unknownKeyMessage(e.getPropertyName(), known));
        } catch (ValueInstantiationException e) {
            Throwable c = e.getCause();
            throw new LoraException("--set: " + (c instanceof LoraException ? c.getMessage() : e.getOriginalMessage()));
        } catch (JsonProcessingException e) {
            throw new LoraException("--set data." + (e instanceof JsonMappingException j ? dotted(j) : "")
                    + ": wrong type of value");
        }
    }

    /** The resolved config as a tree (every key with its effective value, unset ones as null). */
    static JsonNode tree(RunConfig c) {
        return yaml().valueToTree(c);
    }

    /** The resolved config as YAML (every key with its effective value). */
    public static String toYaml(RunConfig c) {
        try {
            return yaml().writeValueAsString(c);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Writes the resolved config atomically. */
    public static void save(RunConfig c, Path file) {
        AtomicFiles.writeString(file, toYaml(c));
    }
}
