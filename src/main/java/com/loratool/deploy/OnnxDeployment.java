package com.loratool.deploy;

import com.loratool.checkpoint.ModelResolver;
import com.loratool.checkpoint.ModelSource;
import com.loratool.checkpoint.ResolvedModel;
import com.loratool.data.Preprocessing;
import com.loratool.LoraException;
import com.loratool.data.Cv;
import com.loratool.data.ImageHeader;
import com.loratool.io.InputFiles;
import com.loratool.io.AtomicFiles;
import com.loratool.io.HostTensor;
import com.loratool.lora.AdapterCheckpoint;
import com.loratool.model.DepthPredictor;
import com.loratool.model.ModelConfig;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;
import org.opencv.core.Mat;
import org.opencv.core.MatOfByte;
import org.opencv.imgcodecs.Imgcodecs;

/**
 * {@code lora export --format onnx}: the merged weights, the graph, the file written under a
 * temporary name, run in ONNX Runtime against the toolkit's forward (the parity certificate), and
 * only then moved to its name, with {@code <file>.json} beside it. Above the tolerance nothing
 * is left behind.
 */
public final class OnnxDeployment {
    /** The default certificate image: a real photograph from the reference fixture (fixtures/da2-tiny/image.png). */
    static final String BUNDLED_IMAGE = "/deploy/parity-image.png";

    private OnnxDeployment() {}

    /** The merged weights, their architecture and what the metadata says about their origin. */
    public record Source(ModelConfig config, LinkedHashMap<String, HostTensor> stateDict, Path baseFile,
                         String baseSha256, String adapterConfig) {}

    /**
     * The one place the exporter gets its weights: a checkpoint's adapters merged into its verified
     * base weights, or base weights alone ({@code checkpoint} null).
     */
    public static Source resolve(Path checkpoint, Path weights, Path modelConfig) {
        return resolve(checkpoint, weights, modelConfig, ModelResolver.Options.DEFAULT);
    }

    /**
     * As above with the resolver's {@code options}: {@code lora export} resolves Depth Anything 3
     * base weights and checkpoints ({@link ModelResolver.Da3}); a Depth Anything 3 graph has the second
     * output {@code sky}, and its certificate checks both.
     */
    public static Source resolve(Path checkpoint, Path weights, Path modelConfig, ModelResolver.Options options) {
        ResolvedModel m = ModelResolver.resolve(ModelSource.of(weights, checkpoint, modelConfig), options);
        return new Source(m.architecture(), m.weights(1), m.provenance().file(), m.provenance().cacheKey(),
                adapterConfig(m));
    }

    /** The metadata's adapter_config: the checkpoint's adapter_config.json as written, "" for base weights. */
    public static String adapterConfig(ResolvedModel m) {
        if (m.adapters().isPresent()) {
            try {
                return Files.readString(m.adapters().get().dir().resolve(AdapterCheckpoint.CONFIG));
            } catch (IOException e) {
                return "";
            }
        }
        return "";
    }

    private static String join(double[] v) {
        return v[0] + "," + v[1] + "," + v[2];
    }

    /** The metadata_props a consumer needs. */
    public static Map<String, String> metadata(Source s, OnnxOptions o, int inputSize) {
        Map<String, String> m = new LinkedHashMap<>();
        ModelConfig c = s.config();
        m.put("model", (c.isDa3() ? "Depth Anything 3 " + c.family().yamlName() : "Depth Anything V2") + " ("
                + c.presetName().orElse("custom") + ")");
        m.put("architecture", c.describe());
        m.put("mean", join(Preprocessing.MEAN));
        m.put("std", join(Preprocessing.STD));
        m.put("input", "image: N x 3 x H x W float32, RGB / 255, (x - mean) / std");
        m.put("size_rule", c.isDa3() ? (o.dynamic() ? "H and W multiples of " + c.patchSize() + "; the official "
                    + "Depth Anything 3 preprocessing: upper_bound_resize, the longer side to process_res (504), each side "
                    + "to the nearest multiple of " + c.patchSize() : "fixed " + o.height() + "x" + o.width())
                : o.dynamic()
                ? "H and W multiples of " + c.patchSize() + "; predict: keep aspect, shorter side at least input_size "
                    + "(bicubic), depth resized back bilinearly (align_corners)"
                : "fixed " + o.height() + "x" + o.width());
        m.put("input_size", String.valueOf(o.dynamic() ? inputSize : Math.min(o.height(), o.width())));
        if (c.isDa3()) {
            m.put("output", "depth: N x H x W float32 (exp head), sky: N x H x W float32 (ReLU)");
            m.put("output_unit", c.family() == ModelConfig.Family.DA3METRIC
                    ? "canonical_depth (metres = focal_px x depth / 300, focal at the network's size)" : "relative_depth");
            m.put("sky_postprocessing", "not in the graph: pixels with sky >= 0.3 get the 0.99 quantile of the depth "
                    + "of the pixels with sky < 0.3 over the batch, when both counts exceed 10");
        } else {
            m.put("output", "depth: N x H x W float32");
            m.put("output_unit", c.isMetric() ? "metres" : "relative_disparity");
        }
        m.put("max_depth", c.isMetric() ? String.valueOf(c.maxDepth()) : "");
        m.put("base_weights", s.baseFile() == null ? "random" : s.baseFile().getFileName().toString());
        m.put("base_sha256", s.baseSha256());
        m.put("adapter_config", s.adapterConfig());
        m.put("fp16", String.valueOf(o.fp16()));
        m.put("toolkit_version", version());
        return m;
    }

    /** "lora <version>", as the metadata's toolkit_version. */
    public static String version() {
        try (InputStream in = OnnxDeployment.class.getResourceAsStream("/version.properties")) {
            Properties p = new Properties();
            if (in != null) {
                p.load(in);
            }
            return "lora " + p.getProperty("version", "unknown");
        } catch (IOException e) {
            return "lora unknown";
        }
    }

    /**
     * Writes {@code output} and {@code output.json}, or fails (certificate above tolerance, bad
     * input) with nothing written. {@code image}: the certificate's image (null: the bundled one).
     */
    public static ParityCertificate export(Source s, OnnxOptions o, Map<String, String> metadata, Path output,
                                           Path image) {
        return export(s, o, metadata, output, image, true);
    }

    /**
     * As above; {@code memoryCheck=false} ({@code --no-memory-check}) skips the memory estimate, not
     * the limits no export passes (both in {@link ExportMemory}, before anything is built).
     */
    public static ParityCertificate export(Source s, OnnxOptions o, Map<String, String> metadata, Path output,
                                           Path image, boolean memoryCheck) {
        return export(s, o, metadata, output, image, s.stateDict(), memoryCheck);
    }

    /** {@code graphWeights}: what the graph is built from (tests: a deliberately wrong constant). */
    static ParityCertificate export(Source s, OnnxOptions o, Map<String, String> metadata, Path output, Path image,
                                    Map<String, HostTensor> graphWeights) {
        return export(s, o, metadata, output, image, graphWeights, true);
    }

    private static ParityCertificate export(Source s, OnnxOptions o, Map<String, String> metadata, Path output,
                                            Path image, Map<String, HostTensor> graphWeights, boolean memoryCheck) {
        Path abs = output.toAbsolutePath();
        if (abs.getParent() == null || !Files.isDirectory(abs.getParent())) {
            throw LoraException.file(output, "--output: the folder " + abs.getParent() + " does not exist");
        }
        o.checkPatch(s.config().patchSize());
        if (o.fp16()) {
            refuseBf16(s);
        }
        int[] imageHw = certificateImageSize(image, o);
        ExportMemory.require(s.config(), parameters(graphWeights), o, imageHw[0], imageHw[1], memoryCheck);
        Mat bgr = certificateImage(image);
        Path tmp = abs.resolveSibling(abs.getFileName() + ".tmp");
        try { // the graph built inside: a refusal there releases the image too
            byte[] bytes = OnnxExport.export(s.config(), graphWeights, o, metadata);
            Files.write(tmp, bytes);
            ParityCertificate cert;
            try (OnnxRuntimeModel m = OnnxRuntimeModel.open(tmp, 0)) {
                cert = ParityCertificate.check(s.config(), s.stateDict(), m, o, bgr,
                        image != null ? image.toString() : "fixtures/da2-tiny/image.png (bundled)");
            }
            if (!cert.passed()) {
                ParityCertificate.Check w = cert.worst();
                throw LoraException.file(output, String.format("parity check failed: ONNX Runtime differs from the "
                        + "toolkit's forward by relative L2 %.3g at %dx%dx%d%s (tolerance %.0e); nothing written",
                        w.relL2(), w.batch(), w.height(), w.width(),
                        w.output().equals(OnnxRuntimeModel.OUTPUT) ? "" : " (output " + w.output() + ")", cert.tolerance()));
            }
            AtomicFiles.writeString(certificatePath(output), cert.toJson(abs.getFileName().toString(), o));
            try {
                Files.move(tmp, abs, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, abs, StandardCopyOption.REPLACE_EXISTING);
            }
            return cert;
        } catch (IOException e) {
            throw LoraException.file(output, "cannot write (" + e.getMessage() + ")", e);
        } finally {
            bgr.release();
            try {
                Files.deleteIfExists(tmp);
            } catch (IOException ignored) {
                // best effort: the temporary file of a failed export
            }
        }
    }

    /** {@code model.onnx} → {@code model.onnx.json}. */
    public static Path certificatePath(Path onnx) {
        return onnx.resolveSibling(onnx.getFileName() + ".json");
    }

    /**
     * bfloat16 weights (read into float32 they have all 16 low bits zero) do not fit fp16's range
     * and precision without a check of their own; refuse rather than export something else.
     */
    static void refuseBf16(Source s) {
        long n = 0;
        for (HostTensor t : s.stateDict().values()) {
            for (float v : t.data()) {
                if ((Float.floatToRawIntBits(v) & 0xffff) != 0) {
                    return;
                }
                n++;
            }
        }
        if (n > 0) {
            throw LoraException.file(s.baseFile() != null ? s.baseFile() : Path.of("weights"),
                    "--fp16: the weights are bfloat16, which fp16 cannot represent faithfully (range); export fp32 "
                            + "(without --fp16) or give float32/float16 weights");
        }
    }

    /** The merged weights' value count. */
    static long parameters(Map<String, HostTensor> stateDict) {
        long n = 0;
        for (HostTensor t : stateDict.values()) {
            n += t.data().length;
        }
        return n;
    }

    /**
     * The certificate image's height and width before it is decoded: from the header of
     * {@code image} (the export size where the header cannot be read here), or the bundled one's.
     */
    static int[] certificateImageSize(Path image, OnnxOptions o) {
        if (image != null) {
            InputFiles.regularFile(image);
            return ImageHeader.size(image).orElse(new int[] {o.height(), o.width()});
        }
        Mat m = certificateImage(null);
        try {
            return new int[] {m.rows(), m.cols()};
        } finally {
            m.release();
        }
    }

    static Mat certificateImage(Path image) {
        DepthPredictor.loadOpenCv();
        if (image != null) {
            return Cv.imread(image, Imgcodecs.IMREAD_COLOR, "parity image");
        }
        try (InputStream in = OnnxDeployment.class.getResourceAsStream(BUNDLED_IMAGE)) {
            if (in == null) {
                throw new LoraException("the bundled parity image " + BUNDLED_IMAGE + " is missing from the jar");
            }
            return Imgcodecs.imdecode(new MatOfByte(in.readAllBytes()), Imgcodecs.IMREAD_COLOR);
        } catch (IOException e) {
            throw new LoraException("cannot read the bundled parity image: " + e.getMessage());
        }
    }
}
