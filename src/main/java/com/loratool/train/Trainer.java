package com.loratool.train;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import com.fasterxml.jackson.databind.JsonNode;
import com.loratool.LoraException;
import com.loratool.config.RunConfig;
import com.loratool.config.TrainSection;
import com.loratool.lora.LoraModel;
import com.loratool.model.DepthAnythingV2;
import com.loratool.model.nn.Scalars;
import com.loratool.train.loss.DepthLoss;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Random;

/**
 * The training loop: frozen base, trainable adapters, validation each epoch, --resume. Everything
 * else a run does after an epoch (checkpoints, metrics.csv and loss.png, early stopping,
 * progress, memory log) is a {@link TrainingListener}.
 *
 * <p>Each micro-batch runs in its own sub-manager of the model's manager, closed before the next
 * one (inputs, activations, graph and loss all live there). Gradients are read to the host and
 * zeroed in place; updated values are written back into the same arrays ({@link AdapterOptimizer}).
 */
public final class Trainer {
    /** The network: x (B,3,H,W) -> relative inverse depth (B,H,W). */
    public interface DepthNetwork {
        NDArray forward(NDArray x);
    }

    /** Where the run's files go and how it reports (console null: log file only). */
    public record Options(Path runDir, boolean resume, boolean quiet, PrintStream console) {}

    /** What adapter_config.json names as the base: weights path, their SHA-256, the architecture. */
    public record BaseWeights(String path, String sha256, JsonNode modelConfig) {}

    /** What a finished run reports. */
    public record Result(int epochsRun, int bestEpoch, double bestValue, boolean stoppedEarly, List<MetricsCsv.Row> rows) {}

    private final RunConfig cfg;
    private final TrainSection t;
    private final LoraModel lora;
    private final DepthNetwork net;
    private final NDManager manager;
    private final TrainingData data;
    private final BaseWeights base;
    private final Options opt;
    private final DepthLoss loss;
    private final List<TrainingListener> extraListeners = new ArrayList<>();

    public Trainer(RunConfig cfg, LoraModel lora, DepthNetwork net, NDManager manager, TrainingData data,
            BaseWeights base, Options opt) {
        this.cfg = cfg;
        this.t = cfg.train;
        this.lora = lora;
        this.net = net;
        this.manager = manager;
        this.data = data;
        this.base = base;
        this.opt = opt;
        this.loss = DepthLoss.fromConfig(t, lora.base() instanceof DepthAnythingV2 m ? m.config() : null);
        if (data.train().isEmpty()) {
            throw new LoraException("data: no training samples");
        }
    }

    /** Adds a listener called after the run's own ones. */
    public Trainer addListener(TrainingListener l) {
        extraListeners.add(l);
        return this;
    }

    public Result run() {
        Path runDir = opt.runDir();
        Checkpoints ckpts = new Checkpoints(runDir, t.keepLast);
        int batchesPerEpoch = (data.train().size() + t.batchSize - 1) / t.batchSize;
        int stepsPerEpoch = (batchesPerEpoch + t.gradAccum - 1) / t.gradAccum;
        try (RunLog log = new RunLog(runDir.resolve("train.log"), opt.console(), opt.resume())) {
            TrainerState state = new TrainerState();
            state.seed = t.seed;
            Checkpoints.Saved saved = opt.resume() ? resume(ckpts, log) : null;
            AdapterOptimizer optimizer = new AdapterOptimizer(lora, t, (long) stepsPerEpoch * t.epochs);
            if (saved != null) {
                state = saved.state();
                optimizer.adam().restore(state.optimizerStep, saved.exp(), saved.expSq());
            }
            MetricsFiles metrics = new MetricsFiles(runDir, cfg.runName(), state.epoch);
            // no validation images: best/ and early stopping follow the training loss, and say so
            String metricName = data.val().isEmpty() ? "train_loss" : t.valMetric;
            if (data.val().isEmpty()) {
                log.info("warning: no validation images: best/ and early stopping use the training loss");
            }
            EarlyStopping early = new EarlyStopping(t.earlyStopping, metricName, log);
            List<TrainingListener> listeners = new ArrayList<>(List.of(metrics,
                    new CheckpointWriter(ckpts, lora, base, optimizer.adam(), metricName),
                    new ProgressReporter(log, t.epochs, opt.quiet() ? null : opt.console()), new MemoryLog(log), early));
            listeners.addAll(extraListeners);
            log.info(lora.summary());
            log.fileOnly("adapted layers: " + String.join(", ", lora.adaptedNames()));
            log.info(String.format(Locale.ROOT, "%d training / %d validation images, %dx%d, batch %d, %d steps/epoch",
                    data.train().size(), data.val().size(), data.train().get(0).width(), data.train().get(0).height(),
                    t.batchSize, stepsPerEpoch));
            Validation validation = new Validation(data.val(), net, manager, loss, t);
            int epochsRun = 0;
            try {
                for (int epoch = state.epoch + 1; epoch <= t.epochs; epoch++) {
                    long start = System.nanoTime();
                    double trainLoss = trainEpoch(epoch, optimizer, state, ckpts, listeners, log);
                    int finished = epoch;
                    listeners.forEach(l -> l.onValidationStart(finished));
                    lora.setTraining(false);
                    Validation.Scores val = validation.run();
                    if (!data.val().isEmpty() && !Double.isFinite(val.loss())) {
                        Path last = ckpts.latest();
                        throw new LoraException("epoch " + epoch + ": validation loss is " + val.loss() + " (diverged,"
                                + " or a validation image without usable depth); training stopped. Last good checkpoint: "
                                + (last == null ? "none" : last));
                    }
                    MetricsCsv.Row row = new MetricsCsv.Row(epoch, trainLoss, val.loss(), val.absRel(), val.delta1(),
                            val.rmse(), optimizer.lr(Math.max(0, state.optimizerStep - 1)), (System.nanoTime() - start) / 1e9);
                    boolean improved = state.recordEpoch(epoch, validation.metric(val, trainLoss),
                            validation.higherIsBetter());
                    epochsRun++;
                    TrainingListener.EpochEnd end = new TrainingListener.EpochEnd(row, improved, state);
                    listeners.forEach(l -> l.onEpochEnd(end));
                    if (listeners.stream().anyMatch(TrainingListener::stopRequested)) {
                        break;
                    }
                }
            } catch (LoraException e) {
                log.fileOnly("error: " + e.getMessage());
                throw e;
            } finally {
                listeners.forEach(TrainingListener::onRunEnd);
            }
            log.info("best " + metricName + " " + state.bestValue + " at epoch " + state.bestEpoch + "; adapters in "
                    + ckpts.bestDir());
            return new Result(epochsRun, state.bestEpoch, state.bestValue, early.stopRequested(),
                    List.copyOf(metrics.rows()));
        }
    }

    /** Loads the newest epoch checkpoint's adapters into the model; returns the rest of it. */
    private Checkpoints.Saved resume(Checkpoints ckpts, RunLog log) {
        Path last = ckpts.latest();
        if (last == null) {
            throw LoraException.file(opt.runDir(), "--resume: no checkpoint to resume from");
        }
        Checkpoints.Saved saved = ckpts.load(last);
        lora.loadAdapterTensors(saved.adapters().tensors(), last.toString());
        log.info("resuming from " + last + " (epoch " + saved.state().epoch + " done)");
        return saved;
    }

    /** One pass over the shuffled training set; returns the mean training loss per image. */
    private double trainEpoch(int epoch, AdapterOptimizer optimizer, TrainerState state, Checkpoints ckpts,
            List<TrainingListener> listeners, RunLog log) {
        // Random state is a function of (seed, epoch): resuming at an epoch boundary replays it exactly.
        Engine.getInstance().setRandomSeed((int) (t.seed * 1_000_003L + epoch));
        List<TrainSample> order;
        if (data.epochSamples() != null) {
            order = data.epochSamples().apply(epoch);
        } else {
            order = new ArrayList<>(data.train());
            Collections.shuffle(order, new Random(t.seed * 7919L + epoch));
        }
        int n = order.size();
        listeners.forEach(l -> l.onEpochStart(epoch, n));
        lora.setTraining(true);
        double lossSum = 0;
        int seen = 0;
        int micro = 0;
        for (int i = 0; i < n; i += t.batchSize) {
            List<TrainSample> part = order.subList(i, Math.min(n, i + t.batchSize));
            String where = String.format(Locale.ROOT, "epoch %d, step %d, images %d-%d", epoch,
                    state.optimizerStep + 1, i + 1, i + part.size());
            float value = forwardBackward(Batch.of(part, t.useFilled));
            if (!Float.isFinite(value)) {
                throw stopped(where + ": loss is " + value, "lower train.lr or set train.clip_grad_norm", ckpts);
            }
            String bad = optimizer.accumulate();
            if (bad != null) {
                log.fileOnly(where + ": loss " + value + ", first non-finite gradient in " + bad);
                throw stopped(where + ": gradient of " + bad + " is not finite (loss " + value + ")",
                        "lower train.lr or set train.clip_grad_norm", ckpts);
            }
            lossSum += value * part.size();
            seen += part.size();
            micro++;
            if (micro == t.gradAccum || i + t.batchSize >= n) {
                String overflow = optimizer.step(state.optimizerStep);
                if (overflow != null) {
                    throw stopped(where + ": summed gradient of " + overflow + " is not finite",
                            "lower train.lr or set train.clip_grad_norm", ckpts);
                }
                state.optimizerStep++;
                micro = 0;
            }
            double mean = lossSum / seen;
            int images = seen;
            listeners.forEach(l -> l.onTrainingBatch(images, mean));
        }
        lora.setTraining(false);
        return lossSum / seen;
    }

    private static LoraException stopped(String what, String hint, Checkpoints ckpts) {
        Path last = ckpts.latest();
        return new LoraException(what + "; training stopped (" + hint + "). Last good checkpoint: "
                + (last == null ? "none" : last));
    }

    /** Forward, loss and backward of one micro-batch; returns the loss (no backward when it is not finite). */
    private float forwardBackward(Batch b) {
        try (NDManager step = manager.newSubManager();
                GradientCollector gc = Engine.getInstance().newGradientCollector()) {
            NDArray pred = net.forward(b.images(step));
            NDArray l = loss.compute(pred, b.depth(step), b.mask(step));
            float value = l.getFloat();
            if (Float.isFinite(value)) {
                gc.backward(t.gradAccum > 1 ? Scalars.div(l, t.gradAccum) : l);
            }
            return value;
        }
    }
}
