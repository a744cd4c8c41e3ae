package com.loratool.bench;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.jni.JniUtils;
import com.loratool.LoraException;
import com.loratool.config.ModelSection;
import com.loratool.config.RunConfig;
import com.loratool.config.TrainSection;
import com.loratool.data.CameraIntrinsics;
import com.loratool.deploy.OnnxExport;
import com.loratool.deploy.OnnxOptions;
import com.loratool.deploy.OnnxRuntimeModel;
import com.loratool.io.HostTensor;
import com.loratool.lora.LoraInjector;
import com.loratool.lora.LoraModel;
import com.loratool.model.Compute;
import com.loratool.model.DepthAnythingV2;
import com.loratool.model.FlopCount;
import com.loratool.model.ModelConfig;
import com.loratool.train.TrainRun;
import com.loratool.data.Sample;
import com.loratool.train.Trainer;
import com.loratool.train.loss.DepthLoss;
import com.loratool.train.TrainingData;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Workloads on the real Depth Anything V2 or 3 and the real training loop: one base model per
 * architecture (loaded once: the config's weights, or seeded random weights with
 * {@code --synthetic}), and per combination fresh LoRA adapters ({@link LoraInjector}), synthetic
 * samples of the combination's shapes and a {@link Trainer} run of the asked epochs (its own
 * per-epoch seconds are the measurement). Inference merges the adapters into the base weights
 * (no adapter overhead) and predicts in batches. Each combination's arrays live in its own
 * sub-manager, closed with it.
 */
public final class ModelWorkloads implements Workloads.Setup {
    private final NDManager root;
    private final Device device;
    private final int threads;
    private final RunConfig cfg;
    private final BenchSettings base;
    private final Map<String, DepthAnythingV2> models = new HashMap<>();

    /** {@code cfg}: model, lora and train settings; its model.weights is "random" for synthetic runs. */
    public ModelWorkloads(RunConfig cfg, String deviceChoice, int threads, BenchSettings base) {
        this.cfg = cfg;
        Compute.setThreads(threads);
        this.device = Compute.device(deviceChoice);
        this.threads = threads > 0 ? threads : JniUtils.getNumThreads();
        this.base = base;
        this.root = NDManager.newBaseManager(device);
    }

    @Override
    public BenchSettings baseSettings() {
        return base;
    }

    @Override
    public int threads() {
        return threads;
    }

    @Override
    public String device() {
        return device.toString();
    }

    @Override
    public void prepare(List<BenchSettings> combos) {
        combos.forEach(c -> model(c.arch()));
    }

    DepthAnythingV2 model(String arch) {
        return models.computeIfAbsent(arch, a -> {
            RunConfig c = cfg;
            if (!a.equals(Workloads.CONFIG_ARCH)) {
                c = cfg.with("model", ModelSection.of(cfg.model.weights(), a));
            }
            return TrainRun.loadBase(c, root, "benchmark").model();
        });
    }

    @Override
    public Workload open(BenchSettings s) {
        DepthAnythingV2 model = model(s.arch());
        int patch = model.config().patchSize();
        if (s.height() % patch != 0 || s.width() % patch != 0) {
            throw new LoraException("--grid: size " + s.size() + " is not a multiple of the patch size " + patch);
        }
        return new ModelWorkload(model, s);
    }

    private final class ModelWorkload implements Workload {
        private final DepthAnythingV2 model;
        private final BenchSettings s;
        private final NDManager manager;
        private final List<Sample> samples = new ArrayList<>();
        private final SyntheticData data;
        private final LoraModel lora;
        /** This combination's own run description (a copy of the benchmark's, with its rank and targets). */
        private final RunConfig combo;
        private int run;
        private OnnxRuntimeModel onnx;

        ModelWorkload(DepthAnythingV2 model, BenchSettings s) {
            this.model = model;
            this.s = s;
            this.data = new SyntheticData(s, cfg.train.seed());
            for (int i = 0; i < s.images(); i++) {
                samples.add(new Sample("synthetic-" + i, data.pixels(i, 1), data.depth(i, 1), data.measured(1),
                        s.height(), s.width()));
            }
            this.manager = root.newSubManager();
            this.combo = cfg.with(Map.of("lora.r", s.rank(), "lora.targets", s.targets()));
            LoraModel l = null;
            try {
                l = LoraInjector.inject(model, combo.lora, combo.train.seed(), manager);
            } finally {
                if (l == null) {
                    manager.close();
                }
            }
            this.lora = l;
        }

        @Override
        public long trainableParams() {
            return lora.trainableCount();
        }

        @Override
        public double trainGflopPerImage() {
            return FlopCount.trainingStep(model.config(), s.height(), s.width()) / 1e9;
        }

        @Override
        public double inferGflopPerImage() {
            return FlopCount.forward(model.config(), s.height(), s.width()) / 1e9;
        }

        @Override
        public List<Double> trainEpochs(int epochs) {
            RunConfig c = combo.with(Map.of("train.epochs", epochs, "train.batch_size", s.batch(),
                    "train.early_stopping", 0));
            // no listeners: the loop writes nothing, the figures come from its result
            Trainer.Result r = new Trainer(c.train, lora, model::forward, manager,
                    new TrainingData(samples, List.of(), c.train.seed()), loss(c.train, model.config(), s)).run();
            List<Double> secs = new ArrayList<>();
            r.rows().forEach(row -> secs.add(row.seconds()));
            return secs;
        }

        @Override
        public double beginInference() {
            lora.setTraining(false);
            long t = System.nanoTime();
            lora.merge(); // adapters folded into the weights: the deployed model
            return (System.nanoTime() - t) / 1e9;
        }

        @Override
        public void endInference() {
            if (onnx != null) {
                onnx.close();
                onnx = null;
            }
            lora.unmerge();
        }

        @Override
        public int inferAll() {
            for (int i = 0; i < s.images(); i += s.batch()) {
                int n = Math.min(s.batch(), s.images() - i);
                try (NDManager step = manager.newSubManager()) {
                    NDArray x = step.create(data.pixels(i, n), new Shape(n, 3, s.height(), s.width()));
                    model.forward(x).toFloatArray(); // to the host, as a caller would
                }
            }
            return s.images();
        }

        @Override
        public int inferAll(String engine) {
            if (!engine.equals("onnxruntime")) {
                return Workload.super.inferAll(engine);
            }
            if (onnx == null) { // the merged weights as an ONNX graph (built once, untimed warm-up call)
                LinkedHashMap<String, HostTensor> sd = new LinkedHashMap<>();
                model.namedParameters().forEach((k, p) -> sd.put(k, new HostTensor(p.shape().getShape(),
                        p.array().toFloatArray())));
                byte[] bytes = OnnxExport.export(model.config(), sd,
                        new OnnxOptions(s.height(), s.width(), false, OnnxOptions.DEFAULT_OPSET, false), Map.of());
                onnx = OnnxRuntimeModel.open(Path.of("benchmark.onnx"), bytes, threads);
            }
            for (int i = 0; i < s.images(); i += s.batch()) {
                int n = Math.min(s.batch(), s.images() - i);
                onnx.run(data.pixels(i, n), n, s.height(), s.width());
            }
            return s.images();
        }

        @Override
        public void close() {
            try {
                if (onnx != null) {
                    onnx.close();
                }
                lora.close();
            } finally {
                manager.close();
            }
        }
    }

    /**
     * The loss a combination trains with: the config's train.loss where it suits the combination's
     * architecture ({@link TrainSection.Loss#suits}), else the architecture's own (a grid's
     * {@code arch} may be another kind than the config's model): ssi for a V2 relative model,
     * metric_silog for a V2 metric one, depth_ssi for da3mono, metric_silog on focal x output / 300 for
     * da3metric, with a synthetic camera (focal = the image width, about 53 degrees across: the time
     * does not depend on the focal).
     */
    static DepthLoss loss(TrainSection t, ModelConfig mc, BenchSettings s) {
        TrainSection.ModelKind kind = mc.lossKind();
        TrainSection train = t.loss().suits(kind) ? t : t.with("loss", switch (kind) {
            case v2_relative -> TrainSection.Loss.ssi.name();
            case v2_metric, da3metric -> TrainSection.Loss.metric_silog.name();
            case da3mono -> TrainSection.Loss.depth_ssi.name();
        });
        CameraIntrinsics camera = kind == TrainSection.ModelKind.da3metric ? new CameraIntrinsics(s.width(), s.width(),
                (s.width() - 1) / 2.0, (s.height() - 1) / 2.0, s.width(), s.height()) : null;
        return DepthLoss.fromConfig(train, mc, camera);
    }

    @Override
    public void close() {
        models.clear();
        root.close();
    }
}
