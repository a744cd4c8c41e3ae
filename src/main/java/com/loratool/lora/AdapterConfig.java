package com.loratool.lora;

import com.fasterxml.jackson.databind.JsonNode;
import com.loratool.config.LoraConfig;
import java.util.ArrayList;
import java.util.List;

/**
 * adapter_config.json: what an adapter checkpoint needs to be applied again. Keys (snake_case):
 * format, peft_type, base_weights (path as given in the run config), base_weights_sha256, model_config
 * (the architecture), r, alpha, rslora, dropout, init, targets, head_convs, adapted_modules
 * (full official names), epoch.
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
    public List<String> adaptedModules = new ArrayList<>();
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
        c.adaptedModules = model.adaptedNames();
        c.epoch = epoch;
        return c;
    }

    public LoraConfig toLoraConfig() {
        LoraConfig l = new LoraConfig();
        l.r = r;
        l.alpha = alpha;
        l.rslora = rslora;
        l.dropout = dropout;
        l.init = init == null ? "kaiming" : init;
        l.targets = new ArrayList<>(targets);
        l.headConvs = headConvs;
        return l;
    }
}
