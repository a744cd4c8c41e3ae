package com.loratool.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.loratool.LoraException;
import com.loratool.config.ConfigLoader;
import com.loratool.config.RunConfig;
import com.loratool.train.TrainRun;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Builds the benchmark's workloads from a run config (or the study's defaults): the model once
 * per architecture, and per combination fresh adapters, synthetic samples and the real training
 * loop ({@link ModelWorkloads}).
 */
public final class Workloads {
    /** The arch name of a config's own architecture (model.config / inferred from the weights). */
    public static final String CONFIG_ARCH = "config";

    private Workloads() { }

    /** Shared state of a benchmark run: the engine, device and models; closes them all. */
    public interface Setup extends Workload.Factory, AutoCloseable {
        /** The settings axes default to (from the config, or the study's baseline). */
        BenchSettings baseSettings();

        int threads();

        /** Builds what the combinations share (models) before memory is first measured. */
        default void prepare(List<BenchSettings> combos) { }

        @Override
        void close();
    }

    /**
     * {@code config} null: vits with random weights, the study's baseline settings. Otherwise the
     * config's model (its weights, or random ones with {@code synthetic}), lora and train sections;
     * data are always synthetic samples of the grid's shapes (values do not change the timing).
     */
    public static Setup create(Path config, boolean synthetic, String device, int threads) {
        RunConfig cfg;
        BenchSettings base = BenchGrid.studyBaseline();
        if (config == null) {
            cfg = new RunConfig();
            cfg.model.weights = TrainRun.RANDOM;
            cfg.model.preset = base.arch();
            cfg.lora.r = base.rank();
            cfg.lora.targets = new ArrayList<>(base.targets());
        } else {
            cfg = ConfigLoader.load(config, List.of());
            if (synthetic) {
                cfg.model.weights = TrainRun.RANDOM;
                if (cfg.model.preset == null && cfg.model.config == null) {
                    cfg.model.preset = "vits";
                }
            }
            String arch = cfg.model.preset != null ? cfg.model.preset : CONFIG_ARCH;
            int[] hw = sizeOf(cfg.data, base);
            base = new BenchSettings(arch, cfg.train.batchSize, hw[0], hw[1], hw[2], base.images(), cfg.lora.targets,
                    cfg.lora.r);
        }
        // the benchmark times training alone: no per-epoch validation, no early stopping
        cfg.train.earlyStopping = 0;
        return new ModelWorkloads(cfg, device, threads > 0 ? threads : cfg.train.threads, base);
    }

    /** {height, width, scale} from the config's data.size (HxW or [H, W]) or data.scale (0.6 aspect as the study). */
    static int[] sizeOf(JsonNode data, BenchSettings base) {
        if (data != null && data.hasNonNull("scale")) {
            int sc = data.get("scale").asInt();
            int[] hw = BenchSettings.sizeOfScale(sc);
            return new int[] {hw[0], hw[1], sc};
        }
        if (data != null && data.hasNonNull("size")) {
            JsonNode sz = data.get("size");
            if (sz.isArray() && sz.size() == 2) {
                return new int[] {sz.get(0).asInt(), sz.get(1).asInt(), 0};
            }
            String[] p = sz.asText().toLowerCase().split("x");
            if (p.length == 2) {
                try {
                    return new int[] {Integer.parseInt(p[0].trim()), Integer.parseInt(p[1].trim()), 0};
                } catch (NumberFormatException e) {
                    throw new LoraException("data.size: expected HxW, got " + sz.asText());
                }
            }
        }
        return new int[] {base.height(), base.width(), base.scale()};
    }
}
