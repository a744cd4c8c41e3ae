package com.loratool.train;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import com.loratool.LoraException;
import com.loratool.checkpoint.ResolvedModel;
import com.loratool.config.RunConfig;
import com.loratool.config.TrainSection;
import com.loratool.lora.LoraInjector;
import com.loratool.lora.LoraModel;
import com.loratool.model.Compute;
import java.util.ArrayList;
import java.util.List;

/**
 * The devices a run trains on, and the model replicas beyond the first: for train.devices
 * [0, 1, ...] the primary model lives on GPU 0 (as for one device) and each further GPU gets its
 * own manager, frozen base and adapters (values copied from the primary before the first step).
 */
final class Replicas implements AutoCloseable {
    private final List<NDManager> managers = new ArrayList<>();
    private final List<Trainer.Replica> replicas = new ArrayList<>();

    /** train.devices as GPUs (checked against the GPUs PyTorch sees), or the one train.device. */
    static List<Device> devices(TrainSection t) {
        if (t.devices().isEmpty()) {
            return List.of(Compute.device(t.device().name()));
        }
        try {
            Compute.device("gpu");
        } catch (LoraException e) { // no GPU: the same diagnosis as --device gpu, under this key
            throw new LoraException("train.devices " + t.devices() + ": " + e.getMessage().replaceFirst("^--device gpu: ", ""));
        }
        int visible = Engine.getEngine("PyTorch").getGpuCount();
        List<Device> out = new ArrayList<>();
        for (int d : t.devices()) {
            if (d >= visible) {
                throw new LoraException("train.devices " + t.devices() + ": GPU " + d + " not visible to PyTorch ("
                        + visible + " GPU" + (visible == 1 ? "" : "s") + ": 0.." + (visible - 1) + ")");
            }
            out.add(Device.gpu(d));
        }
        return out;
    }

    /** Replicas of the run's model on {@code devices} (the primary's device left out by the caller). */
    static Replicas on(List<Device> devices, RunConfig cfg, ResolvedModel resolved) {
        Replicas r = new Replicas();
        try {
            for (Device d : devices) {
                NDManager m = NDManager.newBaseManager(d);
                r.managers.add(m);
                TrainRun.Base base = TrainRun.base(resolved, m);
                LoraModel lora = LoraInjector.inject(base.model(), cfg.lora, cfg.train.seed(), m);
                r.replicas.add(new Trainer.Replica(lora, base.model()::forward, m));
            }
            return r;
        } catch (RuntimeException e) {
            r.close();
            throw e;
        }
    }

    Trainer addTo(Trainer trainer) {
        replicas.forEach(trainer::addReplica);
        return trainer;
    }

    @Override
    public void close() {
        replicas.forEach(r -> r.lora().close());
        managers.forEach(NDManager::close);
    }
}
