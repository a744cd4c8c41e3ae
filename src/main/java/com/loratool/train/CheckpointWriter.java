package com.loratool.train;

import com.loratool.io.HostTensor;
import com.loratool.lora.AdapterConfig;
import com.loratool.lora.LoraModel;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/** Listener: best/ when val_metric improved, then checkpoints/epoch-NNNN/ (the last keep_last kept). */
final class CheckpointWriter implements TrainingListener {
    private final Checkpoints ckpts;
    private final LoraModel lora;
    private final Trainer.BaseWeights base;
    private AdapterOptimizer optimizer;
    private String metric;

    CheckpointWriter(Checkpoints ckpts, LoraModel lora, Trainer.BaseWeights base) {
        this.ckpts = ckpts;
        this.lora = lora;
        this.base = base;
    }

    @Override
    public void onRunStart(RunStart start) {
        this.optimizer = start.optimizer();
        this.metric = start.metric();
    }

    @Override
    public String failureNote() {
        Path last = ckpts.latest();
        return "Last good checkpoint: " + (last == null ? "none" : last);
    }

    @Override
    public void onEpochEnd(EpochEnd end) {
        AdapterConfig acfg = AdapterConfig.of(lora, base.path(), base.sha256(), base.modelConfig(), end.epoch());
        Map<String, HostTensor> adapters = lora.adapterTensors();
        if (end.improved()) {
            Map<String, Object> info = new LinkedHashMap<>();
            info.put("epoch", end.epoch());
            info.put("metric", metric);
            info.put("value", end.state().bestValue);
            ckpts.saveBest(acfg, adapters, info);
        }
        ckpts.saveEpoch(end.epoch(), acfg, adapters, end.state(), optimizer.firstMoments(),
                optimizer.secondMoments());
    }
}
