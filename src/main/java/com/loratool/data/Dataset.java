package com.loratool.data;

import com.loratool.config.DataConfig;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The data pipeline's entry point for training and evaluation.
 *
 * <pre>{@code
 * Dataset ds = Dataset.open(config);      // pairs files, makes the seeded split (no decoding yet)
 * ds.writeSplit(runDir);                  // <runDir>/split.json
 * List<Sample> val = ds.val();            // prepared, cached, never augmented
 * for (int epoch = 1; ...; epoch++) {
 *     List<Sample> samples = ds.trainEpoch(epoch);   // shuffled, augmented (EpochOrder)
 * }
 * }</pre>
 *
 * Samples are decoded and hole-filled once per file (memory cache, optional disk cache); later
 * epochs decode nothing ({@link #decodeCount()}). Sample sizes follow the config: with
 * {@code size: [H, W]} all samples match; with {@code scale} / {@code input_size} samples from
 * files of different resolution differ, and a batch must hold one size (the trainer's concern;
 * batches here are formed in order and may therefore mix sizes only if the files do).
 * The trainer converts samples to NDArrays (image 3xhxw, depth hxw, mask hxw).
 * Thread-safe for concurrent {@link #train()}/{@link #val()} calls.
 */
public final class Dataset {
    private static final Logger LOG = LoggerFactory.getLogger(Dataset.class);
    private final DataConfig config;
    private final Pairing.Result pairing;
    private final Split split;
    private final SamplePreparer preparer;
    private final SampleCache cache;

    private Dataset(DataConfig config, Pairing.Result pairing) {
        this.config = config;
        this.pairing = pairing;
        this.split = Split.of(pairing.pairs(), config.valFraction(), config.maxTrainImages(), config.seed());
        this.preparer = new SamplePreparer(config);
        this.cache = new SampleCache(preparer, config);
    }

    private Dataset(Dataset from, DataConfig config, Split split) {
        this.config = config;
        this.pairing = from.pairing;
        this.split = split;
        this.preparer = from.preparer;
        this.cache = from.cache;
    }

    /**
     * The same pairs and the same decoded samples (one cache: nothing is decoded twice) with
     * another split and the augmentation and seed of {@code config} (whose preprocessing must be
     * this data set's: {@link DataConfig#preprocessingKey}). Used by {@code lora sweep} for its folds.
     */
    public Dataset withSplit(Split other, DataConfig config) {
        if (!config.preprocessingKey().equals(this.config.preprocessingKey())
                || !config.rootPath().equals(this.config.rootPath())) {
            throw new IllegalArgumentException("another preprocessing or data folder: open another Dataset");
        }
        return new Dataset(this, config, other);
    }

    /** Pairs the files under {@code config.root} and splits them (warns about unpaired files). */
    public static Dataset open(DataConfig config) {
        Pairing.Result r = Pairing.pair(config);
        if (!r.problems().isEmpty()) {
            LOG.warn("{}: {}", config.root(), r.problems());
        }
        return new Dataset(config, r);
    }

    public DataConfig config() {
        return config;
    }

    public Pairing.Result pairing() {
        return pairing;
    }

    public Split split() {
        return split;
    }

    /** Training samples in stem order, prepared (cached), not augmented. */
    public List<Sample> train() {
        return prepareAll(split.train());
    }

    /** Validation samples in stem order, prepared (cached), never augmented. */
    public List<Sample> val() {
        return prepareAll(split.val());
    }

    /** One prepared (cached) sample. */
    public Sample sample(Pair p) {
        return cache.get(p);
    }

    /**
     * The training samples of one epoch: shuffled ({@link EpochOrder} with data.seed) and augmented
     * per the config from the same generator (deterministic for a seed and epoch).
     */
    public List<Sample> trainEpoch(long epoch) {
        Random rnd = EpochOrder.random(config.seed(), epoch);
        List<Sample> base = EpochOrder.shuffled(train(), rnd);
        List<Sample> out = new ArrayList<>(base.size());
        for (Sample s : base) {
            out.add(Augmenter.apply(s, config.augment(), rnd));
        }
        return out;
    }

    /** Writes {@code <runDir>/split.json}. */
    public Path writeSplit(Path runDir) {
        return split.write(runDir);
    }

    /** Pairs decoded so far (a second epoch adds none). */
    public long decodeCount() {
        return preparer.decodeCount();
    }

    private List<Sample> prepareAll(List<Pair> pairs) {
        List<Sample> out = new ArrayList<>(pairs.size());
        for (Pair p : pairs) {
            out.add(cache.get(p));
        }
        return out;
    }
}
