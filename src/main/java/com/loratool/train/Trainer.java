package com.loratool.train;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.GradientCollector;
import com.fasterxml.jackson.databind.JsonNode;
import com.loratool.LoraException;
import com.loratool.config.RunConfig;
import com.loratool.config.TrainSection;
import com.loratool.io.HostTensor;
import com.loratool.lora.AdapterConfig;
import com.loratool.lora.LoraModel;
import com.loratool.metrics.DepthMetrics;
import com.loratool.metrics.DisparityAlignment;
import com.loratool.model.nn.Scalars;
import com.loratool.train.loss.DepthLoss;
import com.loratool.train.optim.Adam;
import com.loratool.train.optim.GradClip;
import com.loratool.train.optim.LrSchedule;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * The training loop: frozen base, trainable adapters, Adam on host copies of the adapter
 * tensors, validation each epoch, checkpoints, early stopping, --resume.
 *
 * <p>Each micro-batch runs in its own sub-manager of the model's manager, closed before the next
 * one (inputs, activations, graph and loss all live there). Gradients are read to the host and
 * zeroed in place; updated values are written back into the same arrays.
 */
public final class Trainer {
    /** The network: x (B,3,H,W) -> relative inverse depth (B,H,W). */
    public interface DepthNetwork {
        NDArray forward(NDArray x);
    }

    /**
     * Where the run's files go and how it reports. {@code stopAfterEpoch} (0 = off) ends the run
     * after that epoch as if it had been interrupted (tests of --resume).
     */
    public record Options(Path runDir, boolean resume, boolean quiet, PrintStream console, int stopAfterEpoch) {
        public Options(Path runDir, boolean resume, boolean quiet, PrintStream console) {
            this(runDir, resume, quiet, console, 0);
        }
    }

    /** What a finished run reports. */
    public record Result(int epochsRun, int bestEpoch, double bestValue, boolean stoppedEarly, List<MetricsCsv.Row> rows) {}

    private final RunConfig cfg;
    private final TrainSection t;
    private final LoraModel lora;
    private final DepthNetwork net;
    private final NDManager manager;
    private final TrainingData data;
    private final Options opt;
    private final String baseWeights;
    private final String baseSha256;
    private final JsonNode modelConfig;
    private final DepthLoss loss;
    private final List<NDArray> params;
    private final List<String> paramNames;
    private String badGradientLog;
    private final List<float[]> hostParams = new ArrayList<>();
    private final List<float[]> gradSums = new ArrayList<>();
    private final List<ByteBuffer> uploads = new ArrayList<>();

    public Trainer(RunConfig cfg, LoraModel lora, DepthNetwork net, NDManager manager, TrainingData data,
            String baseWeights, String baseSha256, JsonNode modelConfig, Options opt) {
        this.cfg = cfg;
        this.t = cfg.train;
        this.lora = lora;
        this.net = net;
        this.manager = manager;
        this.data = data;
        this.opt = opt;
        this.baseWeights = baseWeights;
        this.baseSha256 = baseSha256;
        this.modelConfig = modelConfig;
        this.loss = DepthLoss.fromConfig(t);
        this.params = lora.trainable();
        this.paramNames = new ArrayList<>();
        for (String n : lora.adaptedNames()) {
            paramNames.add(n + ".lora_A");
            paramNames.add(n + ".lora_B");
        }
        if (data.train().isEmpty()) {
            throw new LoraException("data: no training samples");
        }
    }

    public Result run() {
        Path runDir = opt.runDir();
        Checkpoints ckpts = new Checkpoints(runDir, t.keepLast);
        MetricsCsv csv = new MetricsCsv(runDir.resolve("metrics.csv"));
        int batchesPerEpoch = (data.train().size() + t.batchSize - 1) / t.batchSize;
        int stepsPerEpoch = (batchesPerEpoch + t.gradAccum - 1) / t.gradAccum;
        LrSchedule schedule = new LrSchedule(t.lr, t.schedule, t.warmupSteps, (long) stepsPerEpoch * t.epochs, t.minLr);
        Adam adam = new Adam("adamw".equals(t.optimizer), t.betas.get(0), t.betas.get(1), t.eps, t.weightDecay);
        TrainerState state = new TrainerState();
        state.seed = t.seed;

        try (RunLog log = new RunLog(runDir.resolve("train.log"), opt.console(), opt.resume())) {
            if (opt.resume()) {
                Path last = ckpts.latest();
                if (last == null) {
                    throw LoraException.file(runDir, "--resume: no checkpoint to resume from");
                }
                Checkpoints.Saved saved = ckpts.load(last);
                lora.loadAdapterTensors(saved.adapters().tensors(), last.toString());
                state = saved.state();
                adam.restore(state.optimizerStep, saved.exp(), saved.expSq());
                csv.loadUpTo(state.epoch);
                log.info("resuming from " + last + " (epoch " + state.epoch + " done)");
            }
            for (NDArray p : params) {
                hostParams.add(p.toFloatArray());
                gradSums.add(new float[(int) p.size()]);
                uploads.add(ByteBuffer.allocateDirect(Math.toIntExact(p.size()) * 4).order(ByteOrder.nativeOrder()));
            }
            log.info(lora.summary());
            log.fileOnly("adapted layers: " + String.join(", ", lora.adaptedNames()));
            log.info(String.format(Locale.ROOT, "%d training / %d validation images, %dx%d, batch %d, %d steps/epoch",
                    data.train().size(), data.val().size(), data.train().get(0).width(), data.train().get(0).height(),
                    t.batchSize, stepsPerEpoch));
            String metricName = data.val().isEmpty() ? "train_loss" : t.valMetric;
            if (data.val().isEmpty()) {
                log.info("warning: no validation images: best/ and early stopping use the training loss");
            }
            boolean stoppedEarly = false;
            int epochsRun = 0;
            try {
                for (int epoch = state.epoch + 1; epoch <= t.epochs; epoch++) {
                    long start = System.nanoTime();
                    double trainLoss = trainEpoch(epoch, adam, schedule, state, log, ckpts);
                    double[] val = validate();
                    if (!data.val().isEmpty() && !Double.isFinite(val[0])) {
                        Path last = ckpts.latest();
                        throw new LoraException("epoch " + epoch + ": validation loss is " + val[0] + " (diverged, or a"
                                + " validation image without usable depth); training stopped. Last good checkpoint: "
                                + (last == null ? "none" : last));
                    }
                    double seconds = (System.nanoTime() - start) / 1e9;
                    double lr = schedule.at(Math.max(0, state.optimizerStep - 1));
                    csv.add(new MetricsCsv.Row(epoch, trainLoss, val[0], val[1], val[2], lr, seconds));
                    state.epoch = epoch;
                    epochsRun++;
                    double metric = metricValue(val, trainLoss);
                    boolean improved = Double.isFinite(metric) && (state.bestEpoch == 0 || better(metric, state.bestValue));
                    AdapterConfig acfg = AdapterConfig.of(lora, baseWeights, baseSha256, modelConfig, epoch);
                    Map<String, HostTensor> adapters = lora.adapterTensors();
                    if (improved) {
                        state.bestValue = metric;
                        state.bestEpoch = epoch;
                        state.epochsWithoutImprovement = 0;
                        Map<String, Object> info = new LinkedHashMap<>();
                        info.put("epoch", epoch);
                        info.put("metric", metricName);
                        info.put("value", metric);
                        ckpts.saveBest(acfg, adapters, info);
                    } else {
                        state.epochsWithoutImprovement++;
                    }
                    ckpts.saveEpoch(epoch, acfg, adapters, state, adam.firstMoments(), adam.secondMoments());
                    LossPlot.write(runDir.resolve("loss.png"), csv.rows(), cfg.runName());
                    log.info(String.format(Locale.ROOT,
                            "epoch %d/%d  train loss %.5f  %s  lr %.3g  %.1fs%s", epoch, t.epochs, trainLoss,
                            data.val().isEmpty() ? "(no validation images)" : String.format(Locale.ROOT,
                            "val loss %.5f  AbsRel %.4f  delta1 %.4f", val[0], val[1], val[2]),
                            lr, seconds, improved ? "  *best*" : ""));
                    log.fileOnly(String.format(Locale.ROOT, "epoch %d memory: rss %.1f MiB, java heap %.1f MiB", epoch,
                            ProcessMemory.currentMb(), (Runtime.getRuntime().totalMemory() - Runtime.getRuntime().freeMemory()) / 1048576.0));
                    if (opt.stopAfterEpoch() > 0 && epoch >= opt.stopAfterEpoch()) {
                        break;
                    }
                    if (t.earlyStopping > 0 && state.epochsWithoutImprovement >= t.earlyStopping) {
                        log.info("early stopping: " + t.valMetric + " has not improved for " + t.earlyStopping
                                + " epochs (best " + state.bestValue + " at epoch " + state.bestEpoch + ")");
                        stoppedEarly = true;
                        break;
                    }
                }
            } catch (LoraException e) {
                log.fileOnly("error: " + e.getMessage());
                if (badGradientLog != null) {
                    log.fileOnly(badGradientLog);
                }
                throw e;
            }
            log.info("best " + metricName + " " + state.bestValue + " at epoch " + state.bestEpoch + "; adapters in "
                    + ckpts.bestDir());
            return new Result(epochsRun, state.bestEpoch, state.bestValue, stoppedEarly, List.copyOf(csv.rows()));
        }
    }

    private double trainEpoch(int epoch, Adam adam, LrSchedule schedule, TrainerState state, RunLog log,
            Checkpoints ckpts) {
        // Random state is a function of (seed, epoch): resuming at an epoch boundary replays it exactly.
        Engine.getInstance().setRandomSeed((int) (t.seed * 1_000_003L + epoch));
        List<TrainSample> order;
        if (data.epochSamples() != null) {
            order = data.epochSamples().apply(epoch);
        } else {
            order = new ArrayList<>(data.train());
            Collections.shuffle(order, new Random(t.seed * 7919L + epoch));
        }
        lora.setTraining(true);
        int n = order.size();
        double lossSum = 0;
        int seen = 0;
        int micro = 0;
        long t0 = System.nanoTime();
        try (ProgressBar bar = progressBar(epoch, n)) {
            for (int i = 0; i < n; i += t.batchSize) {
                List<TrainSample> part = order.subList(i, Math.min(n, i + t.batchSize));
                float value = forwardBackward(Batch.of(part, t.useFilled), log, epoch);
                if (!Float.isFinite(value)) {
                    Path last = ckpts.latest();
                    throw new LoraException("epoch " + epoch + ", images " + (i + 1) + "-" + (i + part.size())
                            + ": loss is " + value + "; training stopped (lower train.lr or set train.clip_grad_norm)."
                            + " Last good checkpoint: " + (last == null ? "none" : last));
                }
                lossSum += value * part.size();
                seen += part.size();
                micro++;
                if (micro == t.gradAccum || i + t.batchSize >= n) {
                    optimizerStep(adam, schedule, state, epoch, ckpts);
                    micro = 0;
                }
                if (bar != null) {
                    bar.stepBy(part.size());
                    double secs = (System.nanoTime() - t0) / 1e9;
                    bar.setExtraMessage(String.format(Locale.ROOT, "loss %.4f  %.2f img/s", lossSum / seen, seen / secs));
                }
            }
        }
        lora.setTraining(false);
        return lossSum / seen;
    }

    private ProgressBar progressBar(int epoch, int images) {
        if (opt.quiet() || opt.console() == null) {
            return null;
        }
        return new ProgressBarBuilder()
                .setTaskName(String.format("epoch %d/%d", epoch, t.epochs))
                .setInitialMax(images)
                .setUnit(" img", 1)
                .setStyle(ProgressBarStyle.ASCII)
                .setUpdateIntervalMillis(250)
                .setConsumer(new ConsoleProgressBarConsumer(opt.console()))
                .continuousUpdate()
                .build();
    }

    /**
     * Forward, loss, backward of one micro-batch; adds its gradients to the host sums. A
     * micro-batch whose loss is finite but whose gradients are not is computed once more (seen
     * rarely and not reproducibly on the tiny model's last, partial batch; a real divergence
     * repeats and stops the run in {@link #optimizerStep}).
     */
    private float forwardBackward(Batch b, RunLog log, int epoch) {
        float value = 0;
        List<float[]> grads = new ArrayList<>(params.size());
        for (int attempt = 1; attempt <= 2; attempt++) {
            try (NDManager step = manager.newSubManager()) {
                NDArray x = b.images(step);
                NDArray z = b.depth(step);
                NDArray m = b.mask(step);
                try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                    NDArray pred = net.forward(x);
                    NDArray l = loss.compute(pred, z, m);
                    value = l.getFloat();
                    if (!Float.isFinite(value)) {
                        return value;
                    }
                    gc.backward(t.gradAccum > 1 ? Scalars.div(l, t.gradAccum) : l);
                }
            }
            grads.clear();
            boolean finite = true;
            for (NDArray p : params) {
                float[] gv;
                try (NDArray g = p.getGradient()) {
                    gv = g.toFloatArray();
                }
                // PyTorch accumulates into .grad: clear it (zero_, safe even for NaN) for the next micro-batch
                JniUtils.zeroGrad((PtNDArray) p);
                for (float v : gv) {
                    if (!Float.isFinite(v)) {
                        finite = false;
                        break;
                    }
                }
                grads.add(gv);
            }
            if (finite) {
                break;
            }
            if (attempt == 1) {
                log.info("warning: epoch " + epoch + ": non-finite gradients with a finite loss (" + value
                        + "); computing this batch again");
            }
        }
        for (int i = 0; i < params.size(); i++) {
            float[] gv = grads.get(i);
            float[] sum = gradSums.get(i);
            for (int j = 0; j < gv.length; j++) {
                sum[j] += gv[j];
            }
        }
        return value;
    }

    private void optimizerStep(Adam adam, LrSchedule schedule, TrainerState state, int epoch, Checkpoints ckpts) {
        double norm = GradClip.clip(gradSums, t.clipGradNorm);
        if (!Double.isFinite(norm)) {
            List<String> bad = new ArrayList<>();
            for (int i = 0; i < gradSums.size(); i++) {
                for (float g : gradSums.get(i)) {
                    if (!Float.isFinite(g)) {
                        bad.add(paramNames.get(i));
                        break;
                    }
                }
            }
            Path last = ckpts.latest();
            badGradientLog = "non-finite gradients in " + bad;
            throw new LoraException("epoch " + epoch + ", step " + (state.optimizerStep + 1) + ": gradient norm is " + norm
                    + " (non-finite gradients in " + (bad.size() > 3 ? bad.subList(0, 3) + " and " + (bad.size() - 3)
                    + " more" : bad) + "); training stopped. Last good checkpoint: " + (last == null ? "none" : last));
        }
        adam.step(hostParams, gradSums, schedule.at(state.optimizerStep));
        state.optimizerStep++;
        for (int i = 0; i < params.size(); i++) {
            // one direct buffer per tensor, reused: no per-step allocation (NDArray.set copies a
            // heap buffer into a fresh direct one, freed only at a GC)
            ByteBuffer up = uploads.get(i);
            up.clear();
            up.asFloatBuffer().put(hostParams.get(i));
            params.get(i).set(up);
            Arrays.fill(gradSums.get(i), 0f);
        }
    }

    /** {val loss, AbsRel, delta1} over the validation set (NaN when it is empty). */
    private double[] validate() {
        List<TrainSample> val = data.val();
        if (val.isEmpty()) {
            return new double[] {Double.NaN, Double.NaN, Double.NaN};
        }
        lora.setTraining(false);
        double lossSum = 0;
        double absRel = 0;
        double delta1 = 0;
        int images = 0;
        for (int i = 0; i < val.size(); i += t.batchSize) {
            List<TrainSample> part = val.subList(i, Math.min(val.size(), i + t.batchSize));
            Batch b = Batch.of(part, t.useFilled);
            float[] pred;
            try (NDManager step = manager.newSubManager()) {
                NDArray p = net.forward(b.images(step));
                lossSum += loss.compute(p, b.depth(step), b.mask(step)).getFloat() * part.size();
                pred = p.toFloatArray();
            }
            int hw = b.height() * b.width();
            for (int k = 0; k < part.size(); k++) {
                // the same protocol as `lora eval` (one definition of the aligned metrics)
                int from = k * hw;
                float[] zk = Arrays.copyOfRange(b.depth(), from, from + hw);
                boolean[] measured = new boolean[hw];
                for (int j = 0; j < hw; j++) {
                    measured[j] = b.mask()[from + j] > 0 && zk[j] > 0;
                }
                DepthMetrics mt = DisparityAlignment.evaluate(
                        Arrays.copyOfRange(pred, from, from + hw), zk, measured);
                if (mt.pixels() > 0) {
                    absRel += mt.absRel();
                    delta1 += mt.delta1();
                }
            }
            images += part.size();
        }
        return new double[] {lossSum / images, absRel / images, delta1 / images};
    }

    /** The chosen validation metric; the training loss when there is no validation set. */
    private double metricValue(double[] val, double trainLoss) {
        if (data.val().isEmpty()) {
            return trainLoss;
        }
        return switch (t.valMetric) {
            case "abs_rel" -> val[1];
            case "delta1" -> val[2];
            default -> val[0];
        };
    }

    private boolean better(double a, double b) {
        return "delta1".equals(t.valMetric) && !data.val().isEmpty() ? a > b : a < b;
    }
}
