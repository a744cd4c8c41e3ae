package com.loratool.sweep;

import ai.djl.ndarray.NDManager;
import com.loratool.checkpoint.ResolvedModel;
import com.loratool.config.DataConfig;
import com.loratool.data.CameraIntrinsics;
import com.loratool.data.FullSample;
import com.loratool.data.ImageReader;
import com.loratool.data.Pair;
import com.loratool.data.Preprocessing;
import com.loratool.data.SamplePreparer;
import com.loratool.eval.Da3Metres;
import com.loratool.eval.DepthModel;
import com.loratool.eval.EvalResult;
import com.loratool.eval.EvalSample;
import com.loratool.eval.Evaluator;
import com.loratool.io.HostTensor;
import com.loratool.io.Interrupts;
import com.loratool.model.DepthAnythingV2;
import com.loratool.model.DepthPredictor;
import com.loratool.model.ModelConfig;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The eval stage's metrics ({@link Evaluator}, as {@code lora eval}: full-resolution depth,
 * scale-shift aligned disparity for relative V2 models, aligned depth for da3mono, absolute metres
 * for metric ones, DA3METRIC's as focal x output / 300) for the
 * cells of a sweep, with what does not change between cells kept for the whole sweep: each
 * image decoded once, and the frozen base's prediction of each image computed once (the base is
 * the same model in every cell that shares its model section).
 */
final class CellEvaluator implements AutoCloseable {
    private final NDManager root;
    private final Map<String, EvalSample> samples = new HashMap<>();
    private final Map<String, float[]> basePredictions = new HashMap<>();
    private final Map<String, DepthPredictor> bases = new HashMap<>();
    private final Map<String, NDManager> baseManagers = new HashMap<>();

    CellEvaluator(NDManager root) {
        this.root = root;
        DepthPredictor.loadOpenCv();
    }

    /** The images of {@code pairs} under {@code dc} (decoded once per sweep). */
    List<EvalSample> samples(DataConfig dc, List<Pair> pairs) {
        SamplePreparer preparer = new SamplePreparer(dc);
        return pairs.stream().map(p -> samples.computeIfAbsent(dataKey(dc) + "|" + p.image(), k -> {
            FullSample f = preparer.readFull(p);
            try {
                return new EvalSample(p.stem(), p.image(), ImageReader.toBgr8(f.rgb()), f.z(), preparer.networkInput(f.rgb()));
            } finally {
                f.rgb().release();
            }
        })).toList();
    }

    /** Whether any sample has a measured depth pixel (finite, > 0). */
    static boolean anyValidDepth(List<EvalSample> s) {
        for (EvalSample e : s) {
            for (float z : e.depth()) {
                if (z > 0 && Float.isFinite(z)) {
                    return true;
                }
            }
        }
        return false;
    }

    /**
     * {@code adapted} (merged weights) against the frozen base ({@code base}, known as
     * {@code baseKey}) on {@code pairs}.
     */
    EvalResult evaluate(ResolvedModel base, String baseKey, Map<String, HostTensor> adapted, DataConfig dc,
                        List<Pair> pairs) {
        return evaluate(base, baseKey, adapted, dc, pairs, null);
    }

    /**
     * {@link #evaluate(ResolvedModel, String, Map, DataConfig, List)} with {@code camera}, the camera of
     * {@code dc}'s images for a DA3METRIC base (null for the others): its outputs are scored in metres,
     * {@code focal x output / 300} ({@link Da3Metres}), absolute like a V2 metric model's.
     */
    EvalResult evaluate(ResolvedModel base, String baseKey, Map<String, HostTensor> adapted, DataConfig dc,
                        List<Pair> pairs, CameraIntrinsics camera) {
        List<EvalSample> s = samples(dc, pairs);
        Preprocessing rule = Preprocessing.of(dc);
        String dk = dataKey(dc);
        DepthPredictor frozen = bases.computeIfAbsent(baseKey, k -> {
            NDManager m = root.newSubManager();
            baseManagers.put(k, m);
            DepthAnythingV2 model = new DepthAnythingV2(base.architecture(), m);
            model.load(base.baseWeights());
            return new DepthPredictor(model, rule);
        });
        DepthModel cached = e -> basePredictions.computeIfAbsent(baseKey + "|" + dk + "|" + e.imageFile(),
                k -> frozen.predict(e.input(), e.height(), e.width()));
        if (base.architecture().family() == ModelConfig.Family.DA3METRIC && camera == null) {
            throw new IllegalArgumentException("a da3metric base needs the camera of its data");
        }
        // no progress bar of its own (the sweep's bar says "eval"; -q: one line per cell)
        if (adapted == null) {
            return Evaluator.of(cached, cached, "base", false, base.architecture(), camera).progress(null).run(s, null);
        }
        try (NDManager m = root.newSubManager()) {
            DepthAnythingV2 model = new DepthAnythingV2(base.architecture(), m);
            model.load(adapted);
            DepthPredictor p = new DepthPredictor(model, rule);
            DepthModel adaptedModel = e -> {
                Interrupts.checkpoint(() -> "evaluating " + e.name()); // a safe point per image
                return p.predict(e.input(), e.height(), e.width());
            };
            return Evaluator.of(adaptedModel, cached, "LoRA", false, base.architecture(), camera).progress(null)
                    .run(s, null);
        }
    }

    private static String dataKey(DataConfig dc) {
        return dc.rootPath().toAbsolutePath().normalize() + "|" + dc.preprocessingKey();
    }

    @Override
    public void close() {
        samples.values().forEach(e -> e.image().release());
        samples.clear();
        baseManagers.values().forEach(NDManager::close);
    }
}
