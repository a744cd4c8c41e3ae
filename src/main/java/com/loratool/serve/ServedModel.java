package com.loratool.serve;

import com.loratool.LoraException;
import com.loratool.api.DepthEstimator;
import com.loratool.api.Prediction;
import com.loratool.checkpoint.ResolvedModel;
import com.loratool.config.Sizing;
import com.loratool.data.CameraIntrinsics;
import com.loratool.data.Cv;
import com.loratool.data.ImageHeader;
import com.loratool.deploy.OnnxDeployment;
import com.loratool.model.Da3Predictor;
import com.loratool.model.ModelConfig;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.opencv.core.Mat;
import org.opencv.imgcodecs.Imgcodecs;

/**
 * The one model a server serves, over {@link DepthEstimator} (the library's one inference path,
 * as {@code lora predict} uses it): {@code image} tensors go through {@link DepthEstimator#forward}
 * (the network alone, at the tensor's size), {@code image_bytes} through
 * {@link DepthEstimator#predict(List)} (the model's own preprocessing, depth at each image's size).
 * Its metadata is the ONNX file's metadata_props, or for weights and checkpoints the same facts
 * from the resolved model (unit, size rule, base SHA-256, adapter config).
 */
final class ServedModel {
    /** The only version served. */
    static final String VERSION = "1";

    private final String name;
    private final DepthEstimator estimator;
    private final Map<String, String> parameters;

    ServedModel(String name, DepthEstimator estimator) {
        this.name = name;
        this.estimator = estimator;
        this.parameters = Collections.unmodifiableMap(describe(estimator));
    }

    String name() {
        return name;
    }

    DepthEstimator estimator() {
        return estimator;
    }

    /** What clients need to use the depth: unit, size rule, base SHA-256, adapter config, ... */
    Map<String, String> parameters() {
        return parameters;
    }

    /** The unit of {@code depth} as served: metres, relative disparity or (Depth Anything 3 mono) relative depth. */
    String depthUnit() {
        return parameters.get("depth_unit");
    }

    private static Map<String, String> describe(DepthEstimator e) {
        Map<String, String> m = new LinkedHashMap<>();
        String unit = e.isMetric() ? "metres" : e.isDa3() ? "relative_depth" : "relative_disparity";
        m.put("depth_unit", unit);
        Map<String, String> onnx = e.onnxMetadata();
        if (onnx != null) {
            m.putAll(new TreeMap<>(onnx));
        } else {
            ResolvedModel r = e.model();
            m.put("model", r.architecture().describe());
            m.put("output_unit", unit);
            // Depth Anything 3: the rule applied, not sizeRule()'s square bound (that one only bounds the memory)
            m.put("size_rule", e.isDa3() ? "the official Depth Anything 3 preprocessing: upper_bound_resize, the longer "
                    + "side to process_res (" + processRes(e) + "), each side to the nearest multiple of " + e.patchSize()
                    : r.preprocessing().description());
            m.put("base_weights", r.provenance().description());
            m.put("base_sha256", r.provenance().random() ? "" : r.provenance().cacheKey());
            m.put("adapter_config", OnnxDeployment.adapterConfig(r));
            m.put("toolkit_version", OnnxDeployment.version());
        }
        if (e.isDa3()) {
            DepthEstimator.Da3Options o = e.da3Options();
            int[] fixed = e.fixedSize();
            m.put("process_res", fixed != null ? "fixed graph " + fixed[0] + " x " + fixed[1]
                    : String.valueOf(processRes(e)));
            m.put("sky_fill", o.skyFill() ? "on (official: sky pixels get the 0.99 quantile of the other pixels' "
                    + "depth, over each image)" : "off (--no-sky-fill)");
            if (e.isMetric()) {
                m.put("focal", o.focal() != null ? o.focal() + " px of the original image (--focal), scaled to the "
                        + "processed resolution" : "--intrinsics " + o.intrinsics().toJson() + ", scaled to the processed "
                        + "resolution");
            }
        }
        m.put("image_input", !takesTensors(e) ? "image_bytes only (Depth Anything 3 metric: the focal is of the original "
                + "image, whose size a preprocessed tensor does not carry)"
                : e.isDa3() ? "image: FP32 N x 3 x H x W, RGB / 255, ImageNet mean/std (the official upper_bound_resize "
                        + "to process_res, as for image_bytes), H and W multiples of " + e.patchSize() + "; relative "
                        + "depth at the tensor's H x W, the sky filled over each image on its own"
                : "image: FP32 N x 3 x H x W, RGB / 255, ImageNet mean/std, H and W multiples of " + e.patchSize()
                        + "; depth at the tensor's H x W");
        m.put("image_bytes_input", "BYTES [N]: encoded PNG/JPEG (base64 strings in JSON); preprocessed as lora predict "
                + "does, depth at the image's size" + (e.isDa3() ? " (resized from the processed size: bilinear, "
                + "align_corners)" : ""));
        return m;
    }

    /** A Depth Anything 3 model's process_res: --process-res, else the official default. */
    private static int processRes(DepthEstimator e) {
        Integer p = e.da3Options().processRes();
        return p != null ? p : Da3Predictor.DEFAULT_PROCESS_RES;
    }

    /** False for a Depth Anything 3 metric model: its metres need the original image's size (the focal's). */
    private static boolean takesTensors(DepthEstimator e) {
        return e.family() != ModelConfig.Family.DA3METRIC;
    }

    /** Whether the {@code image} input (preprocessed tensors) is served. */
    boolean takesTensors() {
        return takesTensors(estimator);
    }

    /** Refuses a tensor this model cannot take, before it is queued. */
    void checkTensor(int h, int w) {
        if (!takesTensors()) {
            throw HttpError.badRequest("input 'image': this is a Depth Anything 3 metric model (da3metric); send the "
                    + "encoded image as 'image_bytes' (the focal is of the original image, whose size a preprocessed "
                    + "tensor does not carry)");
        }
        int p = estimator.patchSize();
        if (h % p != 0 || w % p != 0) {
            throw HttpError.badRequest("input 'image': H x W " + h + " x " + w + ": must be multiples of the patch size "
                    + p);
        }
        if ((long) h * w > ServeSettings.MAX_NETWORK_PIXELS) {
            throw HttpError.badRequest("input 'image': H x W " + h + " x " + w + " is more than the "
                    + ServeSettings.MAX_NETWORK_PIXELS + " pixels this server runs per image");
        }
        int[] fixed = estimator.fixedSize();
        if (fixed != null && (fixed[0] != h || fixed[1] != w)) {
            throw HttpError.badRequest("input 'image': H x W " + h + " x " + w + ": this model is fixed to " + fixed[0]
                    + " x " + fixed[1]);
        }
    }

    /** The batch's forward: n x 3 x h x w → n x h x w. */
    float[] forward(float[] x, int n, int h, int w) {
        return estimator.forward(x, n, h, w);
    }

    /**
     * One encoded image to an 8-bit BGR Mat (the caller releases it): its header's size checked first
     * (OpenCV would allocate what a header claims), then the network size it would need.
     */
    Mat decode(byte[] file, int index) {
        String what = "input 'image_bytes' element " + index;
        Optional<int[]> size = ImageHeader.size(file);
        if (size.isPresent() && (long) size.get()[0] * size.get()[1] > ServeSettings.MAX_IMAGE_PIXELS) {
            throw HttpError.badRequest(what + ": " + size.get()[1] + " x " + size.get()[0] + " pixels, more than the "
                    + ServeSettings.MAX_IMAGE_PIXELS + " this server decodes");
        }
        Mat m;
        try {
            m = Cv.imdecode(file, Imgcodecs.IMREAD_COLOR, what);
        } catch (LoraException e) {
            throw HttpError.badRequest(e.getMessage());
        }
        if ((long) m.rows() * m.cols() > ServeSettings.MAX_IMAGE_PIXELS) {
            m.release();
            throw HttpError.badRequest(what + ": more than " + ServeSettings.MAX_IMAGE_PIXELS + " pixels");
        }
        CameraIntrinsics k = estimator.da3Options().intrinsics();
        if (k != null) { // a da3metric model's camera must be one on this image (as lora predict checks each image)
            try {
                k.onGrid(m.cols(), m.rows(), what + ": --intrinsics");
            } catch (LoraException e) {
                m.release();
                throw HttpError.badRequest(e.getMessage());
            }
        }
        Sizing.Size s = estimator.sizeRule().size(m.rows(), m.cols());
        if ((long) s.height() * s.width() > ServeSettings.MAX_NETWORK_PIXELS) {
            int r = m.rows();
            int c = m.cols();
            m.release();
            throw HttpError.badRequest(what + ": a " + c + " x " + r + " image needs a " + s.width() + " x "
                    + s.height() + " network input, more than the " + ServeSettings.MAX_NETWORK_PIXELS
                    + " pixels this server runs per image (crop it nearer the camera's aspect)");
        }
        return m;
    }

    /** Decoded images (one size or several) → depth at each image's size, as lora predict gives it. */
    List<Prediction> predict(List<Mat> bgr) {
        return estimator.predict(bgr);
    }

    void close() {
        estimator.close();
    }
}
