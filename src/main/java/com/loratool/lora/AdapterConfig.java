package com.loratool.lora;

import com.fasterxml.jackson.databind.JsonNode;
import com.loratool.config.LoraConfig;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * adapter_config.json: what an adapter checkpoint needs to be applied again. Keys (snake_case):
 * format, peft_type, base_weights (path as given in the run config), base_weights_sha256, model_config
 * (the architecture), r, alpha, rslora, dropout, init, targets, head_convs, dora, rank_pattern,
 * alpha_pattern (the run config's, official module names), adapted_modules (full official names;
 * a qkv slice is {@code <block>.attn.qkv.q}), epoch.
 */
public class AdapterConfig {
    public String format = "lora-tool-adapter/1";
    public String peftType = "LORA";
    public String baseWeights;
    public String baseWeightsSha256;
    public JsonNode modelConfig;
    public int r;
    public double alpha;
    public boolean rslora;
    public double dropout;
    public String init;
    public List<String> targets = new ArrayList<>();
    public boolean headConvs;
    public boolean dora;
    public Map<String, Integer> rankPattern = new LinkedHashMap<>();
    public Map<String, Double> alphaPattern = new LinkedHashMap<>();
    public List<String> adaptedModules = new ArrayList<>();
    /** {@code lora.train_modules}: modules trained fully; their parameters are in the tensors under their own names. */
    public List<String> trainModules = new ArrayList<>();
    /** Epoch the adapters were saved after (1-based; 0 = untrained). */
    public int epoch;

    public static AdapterConfig of(LoraModel model, String baseWeights, String sha256, JsonNode modelConfig, int epoch) {
        AdapterConfig c = new AdapterConfig();
        LoraConfig l = model.config();
        c.baseWeights = baseWeights;
        c.baseWeightsSha256 = sha256;
        c.modelConfig = modelConfig;
        c.r = l.r;
        c.alpha = l.alpha;
        c.rslora = l.rslora;
        c.dropout = l.dropout;
        c.init = l.init;
        c.targets = new ArrayList<>(l.targets);
        c.headConvs = l.headConvs;
        c.dora = l.dora;
        c.rankPattern = new LinkedHashMap<>(l.rankPattern);
        c.alphaPattern = new LinkedHashMap<>(l.alphaPattern);
        c.adaptedModules = model.adaptedNames();
        c.trainModules = new ArrayList<>(l.trainModules);
        c.epoch = epoch;
        return c;
    }

    public LoraConfig toLoraConfig() {
        LoraConfig.Builder l = new LoraConfig.Builder();
        l.r = r;
        l.alpha = alpha;
        l.rslora = rslora;
        l.dropout = dropout;
        l.init = init == null ? "kaiming" : init;
        l.targets = targets;
        l.headConvs = headConvs;
        l.dora = dora;
        l.rankPattern = rankPattern;
        l.alphaPattern = alphaPattern;
        l.trainModules = trainModules == null ? List.of() : trainModules;
        return l.build();
    }
}
