package com.loratool.api;

import ai.djl.ndarray.NDManager;
import com.loratool.LoraException;
import com.loratool.config.CheckpointData;
import com.loratool.config.DataConfig;
import com.loratool.config.RunFolder;
import com.loratool.config.Sizing;
import com.loratool.data.Cv;
import com.loratool.data.ImageReader;
import com.loratool.data.SamplePreparer;
import com.loratool.lora.export.CheckpointModel;
import com.loratool.deploy.OnnxPredictor;
import com.loratool.model.Compute;
import com.loratool.model.DepthAnythingV2;
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
import org.opencv.imgproc.Imgproc;

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
    private final DepthAnythingV2 model;
    private final DepthPredictor predictor;
    /** Non-null for checkpoints: the run's preprocessing. */
    private final SamplePreparer preparer;
    private final DataConfig sizeRule;
    /** Non-null for an exported .onnx file (ONNX Runtime; no libtorch model then). */
    private final OnnxPredictor onnx;

    private DepthEstimator(OnnxPredictor onnx) {
        this.onnx = onnx;
        this.manager = null;
        this.model = null;
        this.predictor = null;
        this.preparer = null;
        this.sizeRule = null;
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

    private DepthEstimator(NDManager manager, DepthAnythingV2 model, DataConfig sizeRule, SamplePreparer preparer) {
        this.onnx = null;
        this.manager = manager;
        this.sizeRule = sizeRule;
        this.model = model;
        this.predictor = new DepthPredictor(model, (h, w) -> {
            Sizing.Size sz = sizeRule.targetSize(h, w);
            return new int[] {sz.height(), sz.width()};
        });
        this.preparer = preparer;
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
        private String device = "cpu";

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

        /** auto, cpu or gpu. */
        public Builder device(String name) {
            this.device = name;
            return this;
        }

        public DepthEstimator build() {
            if (weights == null && checkpoint == null) {
                throw new LoraException("give --weights FILE or --checkpoint DIR");
            }
            NDManager m = NDManager.newBaseManager(Compute.device(device));
            try {
                // one size rule for both: the run's (--input-size wins), or infer_image's 518
                RunFolder run = checkpoint != null ? RunFolder.of(checkpoint) : new RunFolder(null, null);
                DataConfig size = CheckpointData.sizeRule(run, inputSize);
                DepthAnythingV2 model = checkpoint == null ? DepthAnythingV2.fromCheckpoint(weights, modelConfig, m)
                        : CheckpointModel.load(checkpoint, weights, modelConfig, m);
                // inside a run folder: the run's preprocessing; otherwise infer_image's
                return new DepthEstimator(m, model, size, run.config() != null ? new SamplePreparer(size) : null);
            } catch (RuntimeException e) {
                m.close();
                throw e;
            }
        }
    }

    /** The network-size rule (data.size / scale / input_size) this model predicts with. */
    public DataConfig sizeRule() {
        return sizeRule;
    }

    /** The architecture; null for an ONNX file (see {@link #isMetric}). */
    public ModelConfig config() {
        return model == null ? null : model.config();
    }

    /** Metric depth (metres) or relative disparity. */
    public boolean isMetric() {
        return onnx != null ? onnx.isMetric() : model.config().isMetric();
    }

    /** Depth for an image file (PNG, JPEG, TIFF, ... as OpenCV reads them). */
    public Prediction predict(Path image) {
        if (preparer != null && onnx == null) {
            Mat rgb = ImageReader.readRgb(image);
            try {
                return wrap(predictor.predict(preparer.networkInput(rgb), rgb.rows(), rgb.cols()), rgb.rows(), rgb.cols());
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
        if (bgr.empty() || bgr.depth() != CvType.CV_8U) {
            throw new LoraException("predict: expected a non-empty 8-bit BGR or grey image, got " + bgr);
        }
        if (onnx != null) {
            return wrap(onnx.predict(List.of(bgr)).get(0), bgr.rows(), bgr.cols());
        }
        if (preparer != null) {
            Mat rgb = new Mat();
            Mat f = new Mat();
            try {
                Imgproc.cvtColor(bgr, rgb, bgr.channels() == 1 ? Imgproc.COLOR_GRAY2RGB : Imgproc.COLOR_BGR2RGB);
                rgb.convertTo(f, CvType.CV_32FC3, 1.0 / 255);
                return wrap(predictor.predict(preparer.networkInput(f), bgr.rows(), bgr.cols()), bgr.rows(), bgr.cols());
            } finally {
                rgb.release();
                f.release();
            }
        }
        return wrap(predictor.predict(bgr), bgr.rows(), bgr.cols());
    }

    /**
     * Several 8-bit BGR images; those of one size go through the network together (base weights),
     * a checkpoint's run preprocessing one by one.
     */
    public List<Prediction> predict(List<Mat> bgr) {
        if (preparer != null || bgr.stream().anyMatch(m -> m.rows() != bgr.get(0).rows() || m.cols() != bgr.get(0).cols())) {
            List<Prediction> out = new ArrayList<>();
            for (Mat m : bgr) {
                out.add(predict(m));
            }
            return out;
        }
        List<float[]> d = onnx != null ? onnx.predict(bgr) : predictor.predictBatch(bgr);
        List<Prediction> out = new ArrayList<>();
        for (int i = 0; i < d.size(); i++) {
            out.add(wrap(d.get(i), bgr.get(i).rows(), bgr.get(i).cols()));
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
