package com.loratool.checkpoint;

import ai.djl.ndarray.NDManager;
import com.loratool.LoraException;
import com.loratool.config.RunFolder;
import com.loratool.data.Preprocessing;
import com.loratool.io.HostTensor;
import com.loratool.lora.AdapterCheckpoint;
import com.loratool.lora.export.AdaptedWeights;
import com.loratool.model.DepthAnythingV2;
import com.loratool.model.ModelConfig;
import com.loratool.model.nn.Parameter;
import com.loratool.model.weights.StateDicts;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * A model as every command runs it, whatever its {@link ModelSource}: the architecture, the base
 * weights on the host, where they came from ({@link Provenance}), how images are prepared for it
 * ({@link Preprocessing}: size rule, interpolation, normalisation), and the LoRA adapters when
 * there are any, with the run folder they were trained in. Holds no native memory: build the
 * network with {@link #instantiate}. Knows nothing about losses or training.
 */
public final class ResolvedModel {
    /** {@link #architectureFrom()} when the weights themselves told (config.json, shapes, file name). */
    public static final String FROM_WEIGHTS = "the weights";

    private final Supplier<ModelConfig> architectureSource;
    private ModelConfig architecture;
    private final String architectureFrom;
    private final LinkedHashMap<String, HostTensor> baseWeights;
    private final Provenance provenance;
    private final Preprocessing preprocessing;
    private final AdapterCheckpoint adapters;
    private final RunFolder run;

    /**
     * {@code architecture} is asked on first use: merging and exporting weights need no architecture,
     * so an unrecognised one fails only the commands that build the network.
     */
    ResolvedModel(Supplier<ModelConfig> architecture, String architectureFrom,
                  LinkedHashMap<String, HostTensor> baseWeights, Provenance provenance, Preprocessing preprocessing,
                  AdapterCheckpoint adapters, RunFolder run) {
        this.architectureSource = architecture;
        this.architectureFrom = architectureFrom;
        this.baseWeights = baseWeights;
        this.provenance = provenance;
        this.preprocessing = preprocessing;
        this.adapters = adapters;
        this.run = run == null ? new RunFolder(null, null) : run;
    }

    public synchronized ModelConfig architecture() {
        if (architecture == null) {
            architecture = architectureSource.get();
        }
        return architecture;
    }

    /** What decided the architecture, for messages: {@code model.preset vits-metric-indoor}, {@code weights.pth}. */
    public String architectureFrom() {
        return architectureFrom;
    }

    /**
     * True for a Depth Anything 3 model: its weights' names are the official Depth Anything 3 ones
     * ({@link StateDicts#isDa3Naming}); tells without deciding the architecture.
     */
    public boolean isDa3() {
        return StateDicts.isDa3Naming(baseWeights.keySet());
    }

    public boolean isMetric() {
        return architecture().isMetric();
    }

    /** The base weights (official names), without adapters. Not to be modified. */
    public Map<String, HostTensor> baseWeights() {
        return baseWeights;
    }

    public Provenance provenance() {
        return provenance;
    }

    public Preprocessing preprocessing() {
        return preprocessing;
    }

    /** The same model prepared for its images by {@code p} (eval's data settings). */
    public ResolvedModel withPreprocessing(Preprocessing p) {
        return new ResolvedModel(this::architecture, architectureFrom, baseWeights, provenance, p, adapters, run);
    }

    /** The adapter checkpoint, when the source was one. */
    public Optional<AdapterCheckpoint> adapters() {
        return Optional.ofNullable(adapters);
    }

    /** The run folder of a checkpoint (both fields null when there is none). */
    public RunFolder run() {
        return run;
    }

    /**
     * The weights the network runs with: the base with the adapters folded in at
     * {@code alphaScale} times their strength ({@link AdaptedWeights#merged}, the one merge); the base
     * itself without adapters or at 0.
     */
    public LinkedHashMap<String, HostTensor> weights(double alphaScale) {
        if (adapters == null || alphaScale == 0) {
            return new LinkedHashMap<>(baseWeights);
        }
        return AdaptedWeights.merged(baseWeights, adapters, alphaScale);
    }

    /** The network with the adapted weights ({@link #weights}{@code (1)}) in {@code manager}. */
    public DepthAnythingV2 instantiate(NDManager manager) {
        return instantiate(manager, 1);
    }

    /** The network with {@link #weights}{@code (alphaScale)} in {@code manager}. */
    public DepthAnythingV2 instantiate(NDManager manager, double alphaScale) {
        return build(weights(alphaScale), manager);
    }

    /** The base network (no adapters) with every parameter frozen: what training attaches adapters to. */
    public DepthAnythingV2 frozenBase(NDManager manager) {
        DepthAnythingV2 model = build(baseWeights, manager);
        for (Parameter p : model.namedParameters().values()) {
            p.setRequiresGradient(false);
        }
        return model;
    }

    private DepthAnythingV2 build(Map<String, HostTensor> weights, NDManager manager) {
        DepthAnythingV2 model = new DepthAnythingV2(architecture(), manager);
        try {
            model.load(weights);
        } catch (LoraException e) {
            String why = e.getMessage() + (architectureFrom.equals(FROM_WEIGHTS) ? "" : " (architecture from "
                    + architectureFrom + ")");
            throw provenance.random() ? new LoraException("random weights: " + why, e)
                    : LoraException.file(provenance.file(), why, e);
        }
        return model;
    }
}
