package com.loratool.bench;

import com.loratool.config.ConfigLoader;
import com.loratool.config.DataConfig;
import com.loratool.config.ModelSection;
import com.loratool.config.RunConfig;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

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
            cfg = new RunConfig().with("model", ModelSection.of(ModelSection.RANDOM, base.arch()))
                    .with(Map.of("lora.r", base.rank(), "lora.targets", base.targets()));
        } else {
            cfg = ConfigLoader.load(config, List.of());
            if (synthetic) {
                cfg = cfg.with("model.weights", ModelSection.RANDOM);
                if (cfg.model.preset() == null && cfg.model.config() == null) {
                    cfg = cfg.with("model.preset", "vits");
                }
            }
            String arch = cfg.model.preset() != null ? cfg.model.preset() : CONFIG_ARCH;
            int[] hw = sizeOf(cfg.data, base);
            base = new BenchSettings(arch, cfg.train.batchSize(), hw[0], hw[1], hw[2], base.images(), cfg.lora.targets(),
                    cfg.lora.r());
        }
        // the benchmark times training alone: no per-epoch validation, no early stopping
        cfg = cfg.with("train.early_stopping", 0);
        return new ModelWorkloads(cfg, device, threads > 0 ? threads : cfg.train.threads(), base);
    }

    /**
     * {height, width, scale} from the config's typed data section (already checked by
     * {@link DataConfig}: multiples of 14): data.size, or data.scale at the study's 0.6 aspect;
     * the image-dependent input_size rule (and no data section) gives the study's baseline size.
     */
    static int[] sizeOf(DataConfig data, BenchSettings base) {
        if (data != null && data.size() != null) {
            return new int[] {data.size().get(0), data.size().get(1), 0};
        }
        if (data != null && data.scale() != null) {
            int sc = data.scale();
            int[] hw = BenchSettings.sizeOfScale(sc);
            return new int[] {hw[0], hw[1], sc};
        }
        return new int[] {base.height(), base.width(), base.scale()};
    }
}
