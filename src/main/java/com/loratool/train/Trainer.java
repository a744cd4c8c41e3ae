package com.loratool.train;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import com.loratool.LoraException;
import com.loratool.io.Interrupts;
import com.loratool.config.TrainSection;
import com.loratool.data.Sample;
import com.loratool.lora.LoraModel;
import com.loratool.train.loss.DepthLoss;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The training loop: frozen base, trainable adapters, validation each epoch. Everything else a
 * run does (its folder's checkpoints, metrics.csv and loss.png, early stopping, progress, memory
 * log: {@link RunFolderListeners}) is a {@link TrainingListener} the caller passes in; without
 * listeners the loop writes nothing (the benchmark). A resumed run starts from
 * {@link #resumeFrom}.
 *
 * <p>Each optimiser step runs in its own sub-manager of the model's manager and each micro-batch in
 * one below it, closed before the next (inputs, activations, graph and loss all live there).
 * Adapters, gradients and optimiser state stay on the device ({@link AdapterOptimizer}); the one
 * host read per step is the step's loss and gradient norm. Several replicas: {@link DataParallel}.
 */
public final class Trainer {
    /** The network: x (B,3,H,W) -> depth (B,H,W) in the model's unit (relative inverse depth, or metres for a metric model). */
    public interface DepthNetwork {
        NDArray forward(NDArray x);
    }

    /** What adapter_config.json names as the base: weights path, their SHA-256, the architecture. */
    public record BaseWeights(String path, String sha256, JsonNode modelConfig) {}

    /**
     * One copy of the model on one device (data parallel): its adapters, its forward pass, the
     * manager it lives in. The adapters must be injected with the same config as the primary's.
     */
    public record Replica(LoraModel lora, DepthNetwork net, NDManager manager) {}

    /** What a finished run reports; {@code rows}: the epochs this call trained. */
    public record Result(int epochsRun, int bestEpoch, double bestValue, boolean stoppedEarly, List<MetricsCsv.Row> rows) {}

    private final TrainSection t;
    private final LoraModel lora;
    private final DepthNetwork net;
    private final NDManager manager;
    private final TrainingData data;
    private final DepthLoss loss;
    private final List<TrainingListener> listeners = new ArrayList<>();
    private final List<Replica> replicas = new ArrayList<>();
    private final HostReads hostReads = new HostReads();
    private RunLog log = RunLog.none();
    private Checkpoints.Saved resumed;
    private Path resumedFrom;

    /** {@code loss}: the run's train.loss for the model's kind ({@link DepthLoss#fromConfig}). */
    public Trainer(TrainSection t, LoraModel lora, DepthNetwork net, NDManager manager, TrainingData data,
            DepthLoss loss) {
        this.t = t;
        this.lora = lora;
        this.net = net;
        this.manager = manager;
        this.data = data;
        this.loss = loss;
        replicas.add(new Replica(lora, net, manager));
        if (data.train().isEmpty()) {
            throw new LoraException("data: no training samples");
        }
    }

    /** Where the loop's own lines go (default: nowhere). */
    public Trainer log(RunLog runLog) {
        this.log = runLog;
        return this;
    }

    /** Continue from an epoch checkpoint ({@code dir}): its adapters, trainer state and optimiser moments. */
    public Trainer resumeFrom(Checkpoints.Saved saved, Path dir) {
        lora.loadAdapterTensors(saved.adapters().tensors(), dir.toString());
        this.resumed = saved;
        this.resumedFrom = dir;
        log.info("resuming from " + dir + " (epoch " + saved.state().epoch + " done)");
        return this;
    }

    /** train.retain_weight: the frozen base's prediction of each training image, by stem ({@link RetainLoss}). */
    private Map<String, float[]> references;

    /** Adds the retention term ({@code train.retain_weight}) with these base predictions of the training images. */
    public Trainer retain(Map<String, float[]> baseReferences) {
        this.references = baseReferences;
        return this;
    }

    /** Adds a listener; listeners are called in the order they were added. */
    public Trainer addListener(TrainingListener l) {
        listeners.add(l);
        return this;
    }

    /**
     * Adds a replica on another device (or, for tests, the same one): each batch is then split
     * across the replicas, their adapter gradients summed, one optimiser step taken, and the new
     * adapter values copied to every replica ({@link DataParallel}).
     */
    public Trainer addReplica(Replica r) {
        if (r.lora().trainable().size() != lora.trainable().size()) {
            throw new IllegalArgumentException("replica adapters differ from the primary's");
        }
        replicas.add(r);
        return this;
    }

    /** The device-to-host reads of the run so far (tests). */
    HostReads hostReads() {
        return hostReads;
    }

    public Result run() {
        int firstBatch = Math.min(t.batchSize(), data.train().size());
        if (replicas.size() > firstBatch) {
            // every replica needs images in the first step (its gradients exist from then on)
            throw new LoraException("train.devices: " + replicas.size() + " replicas need batches of at least "
                    + replicas.size() + " images; train.batch_size is " + t.batchSize() + ", " + data.train().size()
                    + " training images");
        }
        int batchesPerEpoch = (data.train().size() + t.batchSize() - 1) / t.batchSize();
        int stepsPerEpoch = (batchesPerEpoch + t.gradAccum() - 1) / t.gradAccum();
        TrainerState state = new TrainerState();
        state.seed = t.seed();
        List<List<NDArray>> adapters = replicas.stream().map(r -> r.lora().trainable()).toList();
        AdapterOptimizer optimizer = new AdapterOptimizer(adapters, lora.trainableNames(), manager, t,
                (long) stepsPerEpoch * t.epochs(), hostReads);
        DataParallel parallel = new DataParallel(replicas);
        if (resumed != null) {
            state = resumed.state();
            try {
                optimizer.restore(state.optimizerStep, resumed.exp(), resumed.expSq());
            } catch (IllegalArgumentException e) {
                throw LoraException.file(resumedFrom.resolve(Checkpoints.OPTIMIZER), e.getMessage());
            }
        }
        // no validation images: best/ and early stopping follow the training loss, and say so
        String metricName = data.val().isEmpty() ? "train_loss" : t.valMetric().name();
        if (data.val().isEmpty()) {
            log.info("warning: no validation images: best/ and early stopping use the training loss");
        }
        TrainingListener.RunStart runStart = new TrainingListener.RunStart(state, optimizer, metricName, t.epochs());
        listeners.forEach(l -> l.onRunStart(runStart));
        log.info(lora.summary());
        log.fileOnly("adapted layers: " + String.join(", ", lora.adaptedNames()));
        log.info(String.format(Locale.ROOT, "%d training / %d validation images, %dx%d, batch %d, %d steps/epoch",
                data.train().size(), data.val().size(), data.train().get(0).w(), data.train().get(0).h(),
                t.batchSize(), stepsPerEpoch));
        Validation validation = new Validation(data.val(), net, manager, loss, t);
        List<MetricsCsv.Row> rows = new ArrayList<>();
        int epochsRun = 0;
        try {
            for (int epoch = state.epoch + 1; epoch <= t.epochs(); epoch++) {
                long start = System.nanoTime();
                double trainLoss = trainEpoch(epoch, optimizer, parallel, state);
                int finished = epoch;
                listeners.forEach(l -> l.onValidationStart(finished));
                lora.setTraining(false);
                Validation.Scores val = validation.run();
                if (!data.val().isEmpty() && !Double.isFinite(val.loss())) {
                    throw stopped("epoch " + epoch + ": validation loss is " + val.loss() + " (diverged,"
                            + " or a validation image without usable depth); training stopped");
                }
                MetricsCsv.Row row = new MetricsCsv.Row(epoch, trainLoss, val.loss(), val.absRel(), val.delta1(),
                        val.rmse(), optimizer.lr(Math.max(0, state.optimizerStep - 1)), (System.nanoTime() - start) / 1e9);
                boolean improved = state.recordEpoch(epoch, validation.metric(val, trainLoss),
                        validation.higherIsBetter());
                epochsRun++;
                rows.add(row);
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
            parallel.close();
            optimizer.close();
        }
        log.info("best " + metricName + " " + state.bestValue + " at epoch " + state.bestEpoch);
        return new Result(epochsRun, state.bestEpoch, state.bestValue,
                listeners.stream().anyMatch(TrainingListener::stopRequested), List.copyOf(rows));
    }

    /** One pass over the shuffled training set; returns the mean training loss per image. */
    private double trainEpoch(int epoch, AdapterOptimizer optimizer, DataParallel parallel, TrainerState state) {
        // Random state is a function of (seed, epoch): resuming at an epoch boundary replays it exactly.
        Engine.getInstance().setRandomSeed((int) (t.seed() * 1_000_003L + epoch));
        List<Sample> order = data.epochSamples().apply(epoch); // shuffled (and augmented) by the data stage
        int n = order.size();
        listeners.forEach(l -> l.onEpochStart(epoch, n));
        replicas.forEach(r -> r.lora().setTraining(true));
        double lossSum = 0;
        int seen = 0;
        for (int first = 0; first < n; first += t.batchSize() * t.gradAccum()) {
            // one optimiser step: up to grad_accum micro-batches, gradients adding up in .grad
            int end = Math.min(n, first + t.batchSize() * t.gradAccum());
            // safe point: no step half done; the last complete epoch checkpoint is what --resume continues
            Interrupts.checkpoint(() -> "after epoch " + state.epoch + " of " + t.epochs());
            try (NDManager step = manager.newSubManager()) {
                List<NDArray> losses = new ArrayList<>();
                for (int i = first; i < end; i += t.batchSize()) {
                    Batch batch = Batch.of(order.subList(i, Math.min(end, i + t.batchSize())), t.useFilled(),
                            references == null ? null : references::get);
                    losses.add(parallel.forwardBackward(batch, references == null ? loss
                            : RetainLoss.of(loss, batch, t.retainWeight()), t.gradAccum(), step));
                }
                NDArray stepLoss = losses.size() == 1 ? losses.get(0) : NDArrays.stack(new NDList(losses)).sum();
                float[] read = optimizer.gather(stepLoss, step);
                String where = String.format(Locale.ROOT, "epoch %d, step %d, images %d-%d", epoch,
                        state.optimizerStep + 1, first + 1, end);
                if (!Float.isFinite(read[0])) {
                    // name the first micro-batch whose loss is not finite (read only now the run stops)
                    for (int k = 0; k < losses.size(); k++) {
                        int from = first + k * t.batchSize();
                        int images = Math.min(end, from + t.batchSize()) - from;
                        float value = hostReads.read(losses.get(k))[0] / images;
                        if (!Float.isFinite(value)) {
                            throw stopped(String.format(Locale.ROOT, "epoch %d, step %d, images %d-%d: loss is %s",
                                    epoch, state.optimizerStep + 1, from + 1, from + images, value),
                                    "lower train.lr or set train.clip_grad_norm");
                        }
                    }
                    throw stopped(where + ": loss is " + read[0], "lower train.lr or set train.clip_grad_norm");
                }
                float mean = read[0] / (end - first);
                if (!Float.isFinite(read[1])) {
                    String bad = optimizer.firstNonFinite(); // null: every value finite, the squared norm overflows
                    String what = bad != null ? "gradient of " + bad + " is not finite"
                            : "gradient norm is not finite (every value finite, too large together for float32)";
                    log.fileOnly(where + ": loss " + mean + ", " + (bad != null ? "first non-finite gradient in " + bad
                            : what));
                    throw stopped(where + ": " + what + " (loss " + mean + ")",
                            "lower train.lr or set train.clip_grad_norm");
                }
                optimizer.apply(state.optimizerStep, step);
                state.optimizerStep++;
                lossSum += read[0];
                seen += end - first;
            }
            double meanSoFar = lossSum / seen;
            int images = seen;
            listeners.forEach(l -> l.onTrainingBatch(images, meanSoFar));
        }
        replicas.forEach(r -> r.lora().setTraining(false));
        return lossSum / seen;
    }

    private LoraException stopped(String what, String hint) {
        return stopped(what + "; training stopped (" + hint + ")");
    }

    /** The run's error, with what the listeners add (the last good checkpoint). */
    private LoraException stopped(String message) {
        StringBuilder sb = new StringBuilder(message);
        for (TrainingListener l : listeners) {
            String note = l.failureNote();
            if (note != null) {
                sb.append(". ").append(note);
            }
        }
        return new LoraException(sb.toString());
    }
}
