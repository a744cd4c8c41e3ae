package com.loratool.api;

import ai.djl.ndarray.NDManager;
import com.loratool.LoraException;
import com.loratool.checkpoint.ModelResolver;
import com.loratool.checkpoint.ModelSource;
import com.loratool.checkpoint.ResolvedModel;
import com.loratool.config.SizeRule;
import com.loratool.data.Cv;
import com.loratool.deploy.OnnxPredictor;
import com.loratool.data.ImageReader;
import com.loratool.model.Compute;
import com.loratool.model.DepthPredictor;
import com.loratool.model.ModelConfig;
import java.awt.image.BufferedImage;
import java.awt.image.DataBufferByte;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.opencv.core.CvType;
import org.opencv.core.Mat;
import org.opencv.imgcodecs.Imgcodecs;

/**
 * Depth Anything V2 for JVM code: load base weights or a LoRA checkpoint, predict depth for an
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
 */
public final class DepthEstimator implements AutoCloseable {
    private final NDManager manager;
    private final ResolvedModel resolved;
    private final DepthPredictor predictor;

    /** Non-null for an exported .onnx file (ONNX Runtime; no libtorch model then). */
    private final OnnxPredictor onnx;

    private DepthEstimator(NDManager manager, ResolvedModel resolved) {
        this.manager = manager;
        this.resolved = resolved;
        this.predictor = new DepthPredictor(resolved.instantiate(manager), resolved.preprocessing());
        this.onnx = null;
    }

    private DepthEstimator(OnnxPredictor onnx) {
        this.onnx = onnx;
        this.manager = null;
        this.resolved = null;
        this.predictor = null;
    }

    /**
     * An exported model ({@code lora export --format onnx}) in ONNX Runtime, as {@code infer_image}
     * (its metadata's input size, or its fixed size); no libtorch involved.
     */
    public static DepthEstimator fromOnnx(Path file) {
        return fromOnnx(file, null, 0);
    }

    /** {@code inputSize} null: the file's own; {@code threads} 0: ONNX Runtime's default. */
    public static DepthEstimator fromOnnx(Path file, Integer inputSize, int threads) {
        return new DepthEstimator(OnnxPredictor.open(file, inputSize, threads));
    }

    /** A resolved model ({@link ModelResolver}) on {@code device} (auto, cpu or gpu). */
    public static DepthEstimator of(ResolvedModel model, String device) {
        NDManager m = NDManager.newBaseManager(Compute.device(device));
        try {
            return new DepthEstimator(m, model);
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

        public DepthEstimator build() {
            return of(ModelResolver.resolve(ModelSource.of(weights, checkpoint, modelConfig),
                    ModelResolver.Options.inputSize(inputSize)), device);
        }
    }

    /** Metric depth (metres) or relative disparity. */
    public boolean isMetric() {
        return onnx != null ? onnx.isMetric() : resolved.isMetric();
    }

    /** The model as resolved: architecture, provenance, preprocessing, adapters; null for an .onnx file. */
    public ResolvedModel model() {
        return resolved;
    }

    /** The network-size rule (the run's, or infer_image's) this model predicts with. */
    public SizeRule sizeRule() {
        return onnx != null ? onnx.sizeRule() : resolved.preprocessing().sizeRule();
    }

    /** The architecture; null for an ONNX file (see {@link #isMetric}). */
    /** The architecture; null for an .onnx file. */
    public ModelConfig config() {
        return resolved == null ? null : resolved.architecture();
    }

    /** Depth for an image file (PNG, JPEG, TIFF, ... as OpenCV reads them). */
    public Prediction predict(Path image) {
        if (onnx == null && !resolved.preprocessing().official()) { // a run's checkpoint: read as its data stage reads images
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
        for (Mat m : bgr) {
            if (m.empty() || m.depth() != CvType.CV_8U) {
                throw new LoraException("predict: expected a non-empty 8-bit BGR or grey image, got " + m);
            }
        }
        List<Prediction> out = new ArrayList<>();
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

    private Prediction wrap(float[] values, int h, int w) {
        return new Prediction(h, w, values, isMetric() ? Prediction.METRES : Prediction.RELATIVE);
    }

    @Override
    public void close() {
        if (onnx != null) {
            onnx.close();
            return;
        }
        manager.close();
    }
}
