package com.loratool.lora;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.loratool.LoraException;
import com.loratool.config.ConfigError;
import com.loratool.config.LoraConfig;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.loratool.io.Json;
import com.loratool.io.Printable;
import java.lang.reflect.RecordComponent;
import java.util.Map;
import java.util.ArrayList;
import java.util.List;

/**
 * adapter_config.json: what an adapter checkpoint needs to be applied again. The LoRA settings are
 * the run's own {@link LoraConfig} (embedded, written flat: one record, no copies); the rest says
 * which base and which modules. Keys (snake_case): format, peft_type, base_weights (path as given
 * in the run config), base_weights_sha256, model_config (the architecture), the {@code lora:} keys
 * (r, alpha, dropout, targets, rslora, init, head_convs, dora, rank_pattern, alpha_pattern,
 * train_modules, train_modules_init; the train_modules' parameters are in the tensors under their own names),
 * adapted_modules (full official names; a qkv slice is {@code <block>.attn.qkv.q}), epoch.
 *
 * @param epoch the epoch the adapters were saved after (1-based; 0 = untrained)
 */
public record AdapterConfig(String format, String peftType, String baseWeights, String baseWeightsSha256,
                            JsonNode modelConfig, LoraConfig lora, List<String> adaptedModules, int epoch) {
    public static final String FORMAT = "lora-tool-adapter/1";
    private static final List<String> OWN_KEYS = List.of("format", "peft_type", "base_weights", "base_weights_sha256",
            "model_config", "adapted_modules", "epoch");

    public AdapterConfig {
        format = format == null ? FORMAT : format;
        peftType = peftType == null ? "LORA" : peftType;
        lora = lora == null ? LoraConfig.defaults() : lora;
        adaptedModules = adaptedModules == null ? List.of() : List.copyOf(adaptedModules);
    }

    public static AdapterConfig of(LoraModel model, String baseWeights, String sha256, JsonNode modelConfig, int epoch) {
        return new AdapterConfig(FORMAT, "LORA", baseWeights, sha256, modelConfig, model.config(), model.adaptedNames(),
                epoch);
    }

    /** Reads the JSON object of an adapter_config.json; a refused LoRA value is a LoraException. */
    public static AdapterConfig fromJson(JsonNode n) throws JsonProcessingException {
        if (n == null || !n.isObject()) {
            throw new LoraException("not a JSON object");
        }
        ObjectNode lora = ((ObjectNode) n).deepCopy();
        lora.remove(OWN_KEYS);
        checkTypes(lora);
        JsonNode epoch = n.get("epoch");
        if (epoch != null && !(epoch.isIntegralNumber() && epoch.canConvertToInt())) {
            throw new LoraException("epoch: must be an integer, got " + Printable.of(epoch.toString()));
        }
        List<String> modules = new ArrayList<>();
        n.path("adapted_modules").forEach(m -> modules.add(m.asText()));
        JsonNode mc = n.get("model_config");
        LoraConfig config;
        try {
            config = Json.SNAKE.treeToValue(lora, LoraConfig.class);
        } catch (JsonMappingException e) {
            for (Throwable c = e; c != null; c = c.getCause()) {
                if (c instanceof ConfigError ce) { // the section refuses a value: name the key as the file writes it
                    throw new LoraException(ce.key().replaceFirst("^lora\\.", "") + ": " + ce.problem(), e);
                }
            }
            throw e;
        }
        return new AdapterConfig(text(n, "format"), text(n, "peft_type"), text(n, "base_weights"),
                text(n, "base_weights_sha256"), mc == null || mc.isNull() ? null : mc,
                config, modules, n.path("epoch").asInt(0));
    }

    /**
     * Each LoRA key present has the JSON type its {@link LoraConfig} field was written with (an
     * integer, a number, true or false, a string, a list, a mapping); Jackson would otherwise
     * coerce "24" to 24, 4.7 to 4 and null to the default.
     */
    private static void checkTypes(ObjectNode lora) {
        for (RecordComponent rc : LoraConfig.class.getRecordComponents()) {
            String key = rc.getAccessor().getAnnotation(JsonProperty.class).value(); // as written: head_convs
            JsonNode v = lora.get(key);
            if (v == null) {
                continue;
            }
            Class<?> t = rc.getType();
            String want = t == Integer.class ? (v.isIntegralNumber() && v.canConvertToInt() ? null : "an integer")
                    : t == Double.class ? (v.isNumber() ? null : "a number")
                    : t == Boolean.class ? (v.isBoolean() ? null : "true or false")
                    : List.class.isAssignableFrom(t) ? (v.isArray() ? null : "a list")
                    : Map.class.isAssignableFrom(t) ? (v.isObject() ? null : "a mapping")
                    : v.isTextual() ? null : "a string";
            if (want != null) {
                throw new LoraException(key + ": must be " + want + ", got " + Printable.of(v.toString()));
            }
        }
    }

    /** The JSON object written to adapter_config.json (the LoRA keys flat, as PEFT writes them). */
    public ObjectNode toJson() {
        ObjectNode n = Json.SNAKE.createObjectNode();
        n.put("format", format);
        n.put("peft_type", peftType);
        n.put("base_weights", baseWeights);
        n.put("base_weights_sha256", baseWeightsSha256);
        n.set("model_config", modelConfig);
        n.setAll((ObjectNode) Json.SNAKE.valueToTree(lora));
        n.set("adapted_modules", Json.SNAKE.valueToTree(adaptedModules));
        n.put("epoch", epoch);
        return n;
    }

    private static String text(JsonNode n, String key) {
        JsonNode v = n.get(key);
        return v == null || v.isNull() ? null : v.asText();
    }
}
