package com.loratool.api;

import ai.djl.ndarray.NDManager;
import com.loratool.LoraException;
import com.loratool.checkpoint.ModelResolver;
import com.loratool.checkpoint.ModelSource;
import com.loratool.checkpoint.ResolvedModel;
import com.loratool.config.SizeRule;
import com.loratool.data.CameraIntrinsics;
import com.loratool.data.Cv;
import com.loratool.deploy.OnnxPredictor;
import com.loratool.deploy.OnnxRuntimeModel;
import com.loratool.data.ImageReader;
import com.loratool.data.Preprocessing;
import com.loratool.model.Compute;
import com.loratool.model.DepthPredictor;
import com.loratool.model.Da3Outputs;
import com.loratool.model.Da3Predictor;
import com.loratool.model.DepthAnythingV2;
import com.loratool.model.ModelConfig;
import java.awt.image.BufferedImage;
import java.awt.image.DataBufferByte;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.opencv.core.CvType;
import org.opencv.core.Mat;
import org.opencv.imgcodecs.Imgcodecs;

/**
 * Depth Anything V2 and 3 (monocular) for JVM code: load base weights or a LoRA checkpoint, predict depth for an
 * image (file, OpenCV {@link Mat} or {@link BufferedImage}). Holds native memory: close it.
 *
 * <pre>{@code
 * try (DepthEstimator model = DepthEstimator.fromCheckpoint(Path.of("runs/smoke/best"))) {
 *     Prediction depth = model.predict(Path.of("data-samples/images/scene-00.png"));
 * }
 * }</pre>
 *
 * <p>Base weights predict as the official {@code infer_image} does (keep-aspect resize so the
 * shorter side is at least the input size, default 518). A checkpoint predicts as its run was
 * trained and evaluated: the run's size rule and the data stage's preprocessing
 * (data.SamplePreparer, as {@code lora eval}), the adapters folded into the verified base weights;
 * a checkpoint outside a run folder predicts as base weights do.
 *
 * <p>Depth Anything 3 base weights (da3mono, da3metric) and LoRA checkpoints on them (adapters merged)
 * predict as the official {@code inference()} at {@code process_res} ({@link Da3Options},
 * {@link Da3Predictor}), resized to the image; each
 * {@link Prediction} carries the sky mask. A da3metric model needs a focal ({@link Builder#focal} or
 * {@link Builder#intrinsics}) and predicts metres.
 */
public final class DepthEstimator implements AutoCloseable {
    private final NDManager manager;
    private final ResolvedModel resolved;
    private final DepthPredictor predictor;

    /** Non-null for a Depth Anything 3 model (then {@link #predictor} is null). */
    private final Da3Predictor da3;
    private final Da3Options da3Options;
    /** The model's family (V2, da3mono, da3metric: metres from the focal); null for a V2 .onnx file. */
    private final ModelConfig.Family family;

    /** Non-null for an exported .onnx file (ONNX Runtime; no libtorch model then). */
    private final OnnxPredictor onnx;

    /**
     * libtorch's intra-op thread count on the thread that built this estimator (per thread in
     * libtorch): every call runs with it, on whatever thread calls ({@link Compute#threadsHere});
     * 0 for an .onnx file.
     */
    private final int threads;

    private DepthEstimator(NDManager manager, ResolvedModel resolved, Da3Options options) {
        this.threads = Compute.threadsHere();
        this.manager = manager;
        this.resolved = resolved;
        this.da3Options = options;
        this.family = resolved.architecture().family();
        if (family.isDa3()) {
            options.check(family);
            DepthAnythingV2 net = resolved.instantiate(manager); // a checkpoint's adapters merged
            this.da3 = new Da3Predictor(net, options.processRes() != null ? options.processRes()
                    : Da3Predictor.DEFAULT_PROCESS_RES, options.skyFill());
            this.predictor = null;
        } else {
            options.checkV2();
            this.predictor = new DepthPredictor(resolved.instantiate(manager), resolved.preprocessing());
            this.da3 = null;
        }
        this.onnx = null;
        this.onnxModel = null;
    }

    private DepthEstimator(OnnxPredictor onnx) {
        this.threads = 0;
        this.onnx = onnx;
        this.onnxModel = null;
        this.manager = null;
        this.resolved = null;
        this.predictor = null;
        this.da3 = null;
        this.family = null;
        this.da3Options = Da3Options.DEFAULT;
    }

    /** A Depth Anything 3 graph: {@link Da3Predictor} with ONNX Runtime as its forward step. */
    private DepthEstimator(OnnxRuntimeModel graph, Da3Predictor da3, ModelConfig.Family family, Da3Options options) {
        this.threads = 0;
        this.onnx = null;
        this.onnxModel = graph;
        this.manager = null;
        this.resolved = null;
        this.predictor = null;
        this.da3 = da3;
        this.family = family;
        this.da3Options = options;
    }

    /** Non-null for an exported Depth Anything 3 graph (run by {@link #da3}). */
    private final OnnxRuntimeModel onnxModel;

    /**
     * How a Depth Anything 3 model predicts ({@code lora predict}'s {@code --process-res},
     * {@code --no-sky-fill}, {@code --focal}, {@code --intrinsics}); a V2 model refuses any of them.
     *
     * @param processRes {@code process_res} of the official {@code upper_bound_resize}; null: 504, the official default
     * @param skyFill the official sky post-processing ({@link Da3Outputs#skyFill}); false: the head's depth as it is
     * @param focal DA3METRIC: the focal length in pixels of the ORIGINAL image (fx = fy), scaled to the
     *     processed resolution for {@link Da3Outputs#metres}; may be null
     * @param intrinsics DA3METRIC: the camera ({@code lora data intrinsics}' JSON; its grid, when it has one,
     *     is rescaled to each image's); fx and fy are scaled to the processed resolution; may be null
     */
    public record Da3Options(Integer processRes, boolean skyFill, Double focal, CameraIntrinsics intrinsics) {
        public static final Da3Options DEFAULT = new Da3Options(null, true, null, null);

        boolean isDefault() {
            return processRes == null && skyFill && focal == null && intrinsics == null;
        }

        void checkV2() {
            if (!isDefault()) {
                throw new LoraException("--process-res, --no-sky-fill and --focal are for Depth Anything 3 models; "
                        + "a Depth Anything V2 model takes --input-size");
            }
        }

        /** A focal that is zero, negative or not finite is refused (null: none given). */
        public static void checkFocal(Double focal) {
            if (focal != null && !(focal > 0 && Double.isFinite(focal))) {
                throw new LoraException("--focal " + focal + ": must be a positive finite number of pixels");
            }
        }

        void check(ModelConfig.Family family) {
            checkFocal(focal);
            if (family == ModelConfig.Family.DA3METRIC) {
                if (focal == null && intrinsics == null) {
                    throw new LoraException("Depth Anything 3 metric (da3metric) needs the focal length for metres: give "
                            + "--focal PX (pixels of the original image) or --intrinsics K.json (as lora data intrinsics "
                            + "writes)");
                }
                if (focal != null && intrinsics != null) {
                    throw new LoraException("--focal and --intrinsics: give one (the focal of a da3metric model)");
                }
            } else if (focal != null || intrinsics != null) {
                throw new LoraException((focal != null ? "--focal" : "--intrinsics (as a focal)")
                        + " is for Depth Anything 3 metric models (da3metric); " + family.yamlName()
                        + " predicts relative depth");
            }
        }
    }

    /**
     * An exported model ({@code lora export --format onnx}) in ONNX Runtime; no libtorch involved. A
     * V2 graph predicts as {@code infer_image} (its metadata's input size, or its fixed size); a
     * Depth Anything 3 graph (outputs depth and sky) as {@link Da3Predictor} with default
     * {@link Da3Options} (a da3metric graph needs a focal: {@link #fromOnnx(Path, Integer, int, Da3Options)}).
     */
    public static DepthEstimator fromOnnx(Path file) {
        return fromOnnx(file, null, 0);
    }

    /** {@code inputSize} null: the file's own; {@code threads} 0: ONNX Runtime's default. */
    public static DepthEstimator fromOnnx(Path file, Integer inputSize, int threads) {
        return fromOnnx(file, inputSize, threads, Da3Options.DEFAULT);
    }

    /**
     * As above; a Depth Anything 3 graph with {@code da3}: the same steps as its weights in libtorch
     * ({@link Da3Predictor}: the official preprocessing at {@code processRes} for a dynamic graph,
     * default 504, or resized to a fixed graph's size; the sky fill; the resize to the image; metres
     * from the focal for da3metric). A V2 graph refuses Depth Anything 3 options, and a Depth
     * Anything 3 graph {@code inputSize}.
     */
    public static DepthEstimator fromOnnx(Path file, Integer inputSize, int threads, Da3Options da3) {
        return fromOnnx(file, OnnxRuntimeModel.open(file, threads), inputSize, da3);
    }

    /** As above, on {@code file} already open in ONNX Runtime (the estimator owns it; closed if refused). */
    public static DepthEstimator fromOnnx(Path file, OnnxRuntimeModel m, Integer inputSize, Da3Options da3) {
        ModelConfig.Family family = m.family();
        if (!family.isDa3()) {
            try {
                da3.checkV2();
            } catch (RuntimeException e) {
                m.close();
                throw e;
            }
            return new DepthEstimator(OnnxPredictor.of(file, m, inputSize));
        }
        try {
            if (inputSize != null) {
                throw new LoraException("--input-size is for Depth Anything V2; " + file + " is a Depth Anything 3 "
                        + "graph (--process-res N, default " + Da3Predictor.DEFAULT_PROCESS_RES + ", for a dynamic graph)");
            }
            da3.check(family);
            int[] fixed = m.fixedSize();
            if (fixed != null && da3.processRes() != null) {
                throw LoraException.file(file, "is a fixed-size graph (" + fixed[0] + "x" + fixed[1] + "): --process-res "
                        + da3.processRes() + " cannot change it (drop --process-res, or export with --dynamic)");
            }
            int patch = 14; // the graph's H and W: multiples of the patch size (OnnxOptions)
            Da3Predictor p = new Da3Predictor((chw, h, w) -> m.runWithSky(chw, 1, h, w), patch,
                    da3.processRes() != null ? da3.processRes() : Da3Predictor.DEFAULT_PROCESS_RES, fixed, da3.skyFill());
            return new DepthEstimator(m, p, family, da3);
        } catch (RuntimeException e) {
            m.close();
            throw e;
        }
    }

    /** A resolved model ({@link ModelResolver}) on {@code device} (auto, cpu or gpu). */
    public static DepthEstimator of(ResolvedModel model, String device) {
        return of(model, device, Da3Options.DEFAULT);
    }

    /** A resolved model on {@code device}, a Depth Anything 3 one with {@code da3} ({@link Da3Options}). */
    public static DepthEstimator of(ResolvedModel model, String device, Da3Options da3) {
        NDManager m = NDManager.newBaseManager(Compute.device(device));
        try {
            return new DepthEstimator(m, model, da3);
        } catch (RuntimeException e) {
            m.close();
            throw e;
        }
    }

    /** Base weights (official .pth, .safetensors or a Hugging Face folder) at input size 518, on the CPU. */
    public static DepthEstimator load(Path weights) {
        return builder().weights(weights).build();
    }

    /** Base weights at {@code inputSize} (shorter side of the network input, rounded to multiples of 14). */
    public static DepthEstimator load(Path weights, int inputSize) {
        return builder().weights(weights).inputSize(inputSize).build();
    }

    /** A LoRA checkpoint folder ({@code runs/<run>/best}): adapters on their verified base weights. */
    public static DepthEstimator fromCheckpoint(Path checkpoint) {
        return builder().checkpoint(checkpoint).build();
    }

    public static Builder builder() {
        return new Builder();
    }

    /** All the ways to open a model ({@code lora predict}'s options). */
    public static final class Builder {
        private Path weights;
        private Path checkpoint;
        private Path modelConfig;
        private Integer inputSize;
        private String device = "auto";
        private Integer processRes;
        private boolean skyFill = true;
        private Double focal;
        private CameraIntrinsics intrinsics;

        private Builder() {}

        /** Base weights; with a checkpoint: the adapters' base weights if moved (checked by SHA-256). */
        public Builder weights(Path file) {
            this.weights = file;
            return this;
        }

        /** A LoRA checkpoint folder. */
        public Builder checkpoint(Path dir) {
            this.checkpoint = dir;
            return this;
        }

        /** Architecture YAML (non-official sizes), or a preset name. */
        public Builder modelConfig(Path file) {
            this.modelConfig = file;
            return this;
        }

        /** Network input size (shorter side); default 518, or a checkpoint's run's size rule. */
        public Builder inputSize(Integer n) {
            this.inputSize = n;
            return this;
        }

        /** auto (default: a GPU when the natives have one, else the CPU), cpu or gpu. */
        public Builder device(String name) {
            this.device = name;
            return this;
        }

        /** Depth Anything 3: {@code process_res} (longest side; default 504, the official one). */
        public Builder processRes(Integer n) {
            this.processRes = n;
            return this;
        }

        /** Depth Anything 3: the official sky post-processing (default true). */
        public Builder skyFill(boolean on) {
            this.skyFill = on;
            return this;
        }

        /** Depth Anything 3 metric: the focal length in pixels of the original image. */
        public Builder focal(Double px) {
            this.focal = px;
            return this;
        }

        /** Depth Anything 3 metric: the camera, for the focal length. */
        public Builder intrinsics(CameraIntrinsics k) {
            this.intrinsics = k;
            return this;
        }

        public DepthEstimator build() {
            return of(ModelResolver.resolve(ModelSource.of(weights, checkpoint, modelConfig),
                    ModelResolver.Options.inputSize(inputSize).runs("predict", ModelResolver.Da3.ALL)), device,
                    new Da3Options(processRes, skyFill, focal, intrinsics));
        }
    }

    /** Metric depth (metres) or relative disparity. */
    public boolean isMetric() {
        return onnx != null ? onnx.isMetric() : da3 != null ? family == ModelConfig.Family.DA3METRIC : resolved.isMetric();
    }

    /** The model as resolved: architecture, provenance, preprocessing, adapters; null for an .onnx file. */
    public ResolvedModel model() {
        return resolved;
    }

    /** The network-size rule (the run's, or infer_image's) this model predicts with. */
    public SizeRule sizeRule() {
        if (da3 != null) { // upper_bound_resize: at most process_res (rounded up to 14) on either side
            int[] fixed = da3.fixedSize();
            if (fixed != null) {
                return new SizeRule.Explicit(fixed[0], fixed[1]);
            }
            int p = da3.patchSize();
            int side = (da3.processRes() + p - 1) / p * p;
            return new SizeRule.Explicit(side, side);
        }
        return onnx != null ? onnx.sizeRule() : resolved.preprocessing().sizeRule();
    }

    /** The architecture; null for an ONNX file (see {@link #isMetric}). */
    /** The architecture; null for an .onnx file. */
    public ModelConfig config() {
        return resolved == null ? null : resolved.architecture();
    }

    /** Depth for an image file (PNG, JPEG, TIFF, ... as OpenCV reads them). */
    public Prediction predict(Path image) {
        Compute.threadsHere(threads);
        if (onnx == null && da3 == null && !resolved.preprocessing().official()) { // a run's checkpoint: read as its data stage reads images
            Mat rgb = ImageReader.readRgb(image);
            try {
                return wrap(predictor.predict(resolved.preprocessing().fromRgb(rgb), rgb.rows(), rgb.cols()),
                        rgb.rows(), rgb.cols());
            } finally {
                rgb.release();
            }
        }
        DepthPredictor.loadOpenCv();
        Mat bgr = Cv.imread(image, Imgcodecs.IMREAD_COLOR, "image");
        try {
            return predict(bgr);
        } finally {
            bgr.release();
        }
    }

    /** Depth for an 8-bit BGR (or grey) OpenCV image, as {@code cv2.imread} gives. */
    public Prediction predict(Mat bgr) {
        return predict(List.of(bgr)).get(0);
    }

    /** Several 8-bit BGR images; those of one size go through the network together. */
    public List<Prediction> predict(List<Mat> bgr) {
        Compute.threadsHere(threads);
        for (Mat m : bgr) {
            if (m.empty() || m.depth() != CvType.CV_8U) {
                throw new LoraException("predict: expected a non-empty 8-bit BGR or grey image, got " + m);
            }
        }
        List<Prediction> out = new ArrayList<>();
        if (da3 != null) { // each image alone: the sky fill's quantile is over one image
            for (Mat m : bgr) {
                out.add(da3Predict(m));
            }
            return out;
        }
        int i = 0;
        while (i < bgr.size()) {
            int j = i + 1;
            while (j < bgr.size() && bgr.get(j).rows() == bgr.get(i).rows() && bgr.get(j).cols() == bgr.get(i).cols()) {
                j++;
            }
            List<float[]> d = onnx != null ? onnx.predict(bgr.subList(i, j)) : predictor.predictBatch(bgr.subList(i, j));
            for (int k = 0; k < d.size(); k++) {
                out.add(wrap(d.get(k), bgr.get(i + k).rows(), bgr.get(i + k).cols()));
            }
            i = j;
        }
        return out;
    }

    /**
     * The network alone on a batch of {@code n} preprocessed images ({@code x}: n x 3 x h x w float32,
     * RGB / 255, ImageNet mean/std: what {@link #preprocessing()} gives, and what the exported graph's
     * input {@code image} takes): depth n x h x w at the network's size, in the model's unit (metres for
     * a metric model), without the resize back to an image. One forward pass, on ONNX Runtime or
     * libtorch; {@code lora serve} batches requests through it. Depth Anything V2 only: a Depth Anything
     * 3 mono model ({@link Da3Predictor#depthAt}): relative depth at h x w with the sky fill over each
     * image on its own (as {@link #predict(List)} fills it, so an image's depth never depends on the
     * others in its batch; the official code fills over its whole batch, which for one image is the
     * same); for an image at its processed size, {@link #predict(List)}'s depth. A Depth Anything 3
     * metric model refuses: its metres need the focal of the original image, whose size a tensor does
     * not carry.
     */
    public float[] forward(float[] x, int n, int h, int w) {
        Compute.threadsHere(threads);
        if (n < 1 || h < 1 || w < 1 || x.length != (long) n * 3 * h * w) {
            throw new LoraException("forward: " + x.length + " values for " + n + " x 3 x " + h + " x " + w);
        }
        if (da3 != null) {
            if (family == ModelConfig.Family.DA3METRIC) {
                throw new LoraException("a Depth Anything 3 metric model (da3metric) predicts metres from images: "
                        + "the focal is of the original image, whose size a preprocessed tensor does not carry");
            }
            int plane = h * w;
            float[] out = new float[n * plane];
            for (int i = 0; i < n; i++) {
                float[] chw = new float[3 * plane];
                System.arraycopy(x, i * 3 * plane, chw, 0, chw.length);
                System.arraycopy(da3.depthAt(chw, h, w), 0, out, i * plane, plane);
            }
            return out;
        }
        return onnx != null ? onnx.model().run(x, n, h, w) : predictor.forward(x, n, h, w);
    }

    /**
     * The preprocessing this model predicts with: the official {@code infer_image} one at the file's
     * size rule for an .onnx file, the resolved model's otherwise; null for Depth Anything 3 (its own,
     * {@link Da3Predictor}).
     */
    public Preprocessing preprocessing() {
        return da3 != null ? null : onnx != null ? onnx.preprocessing() : resolved.preprocessing();
    }

    /** H and W of a preprocessed input must be multiples of this (the ViT's patch size). */
    public int patchSize() {
        return da3 != null ? da3.patchSize() : onnx != null ? 14 : resolved.architecture().patchSize();
    }

    /** An .onnx file of one fixed input size: {height, width}; null for a dynamic graph or weights. */
    public int[] fixedSize() {
        return onnx != null ? onnx.model().fixedSize() : onnxModel != null ? onnxModel.fixedSize() : null;
    }

    /** The metadata_props of an .onnx file (unit, size rule, base SHA-256, adapter config); null otherwise. */
    public Map<String, String> onnxMetadata() {
        return onnx != null ? onnx.model().metadata() : onnxModel != null ? onnxModel.metadata() : null;
    }

    /** Depth for a Java image (any type; converted to 8-bit BGR). */
    public Prediction predict(BufferedImage image) {
        Mat bgr = toBgr(image);
        try {
            return predict(bgr);
        } finally {
            bgr.release();
        }
    }

    static Mat toBgr(BufferedImage image) {
        BufferedImage b = image;
        if (image.getType() != BufferedImage.TYPE_3BYTE_BGR) {
            b = new BufferedImage(image.getWidth(), image.getHeight(), BufferedImage.TYPE_3BYTE_BGR);
            b.getGraphics().drawImage(image, 0, 0, null);
        }
        byte[] px = ((DataBufferByte) b.getRaster().getDataBuffer()).getData();
        DepthPredictor.loadOpenCv();
        Mat m = new Mat(b.getHeight(), b.getWidth(), CvType.CV_8UC3);
        m.put(0, 0, px);
        return m;
    }

    /** How this Depth Anything 3 model predicts ({@link Da3Options#DEFAULT} for a V2 one). */
    public Da3Options da3Options() {
        return da3Options;
    }

    /** The model's family (V2, da3mono, da3metric); null for a V2 .onnx file. */
    public ModelConfig.Family family() {
        return family;
    }

    /** True for a Depth Anything 3 model (a sky mask with each prediction). */
    public boolean isDa3() {
        return da3 != null;
    }

    private Prediction da3Predict(Mat bgr) {
        Da3Predictor.Result r = da3.predict(bgr);
        if (family != ModelConfig.Family.DA3METRIC) {
            return new Prediction(r.height(), r.width(), r.depth(), Prediction.RELATIVE_DEPTH, r.sky());
        }
        // the focal at the processed resolution: the image's focal scaled as the image was
        double sx = (double) r.processedWidth() / r.width();
        double sy = (double) r.processedHeight() / r.height();
        double focal;
        if (da3Options.focal() != null) {
            focal = Da3Outputs.focal(da3Options.focal() * sx, da3Options.focal() * sy);
        } else {
            CameraIntrinsics k = da3Options.intrinsics().onGrid(r.width(), r.height(), "--intrinsics");
            focal = Da3Outputs.focal(k.fx() * sx, k.fy() * sy);
        }
        return new Prediction(r.height(), r.width(), Da3Outputs.metres(r.depth(), focal), Prediction.METRES, r.sky());
    }

    private Prediction wrap(float[] values, int h, int w) {
        return new Prediction(h, w, values, isMetric() ? Prediction.METRES : Prediction.RELATIVE);
    }

    @Override
    public void close() {
        if (onnx != null) {
            onnx.close();
            return;
        }
        if (onnxModel != null) {
            onnxModel.close();
            return;
        }
        manager.close();
    }
}
