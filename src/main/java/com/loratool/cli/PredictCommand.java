package com.loratool.cli;

import com.loratool.LoraException;
import com.loratool.checkpoint.ModelResolver;
import com.loratool.checkpoint.ModelSource;
import com.loratool.checkpoint.ResolvedModel;
import com.loratool.model.ModelConfig;
import com.loratool.deploy.OnnxRuntimeModel;
import com.loratool.api.DepthEstimator;
import com.loratool.api.Prediction;
import com.loratool.data.Cv;
import com.loratool.data.GeometryOutputs;
import com.loratool.data.Pairing;
import com.loratool.io.BatchFailures;
import com.loratool.io.OutputGuard;
import com.loratool.io.OutputNames;
import com.loratool.model.Compute;
import com.loratool.model.DepthPredictor;
import com.loratool.model.DepthWriter;
import com.loratool.model.MemoryCheck;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import org.opencv.core.Mat;
import org.opencv.imgcodecs.Imgcodecs;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code lora predict}: relative or metric depth for an image or a folder of images. */
@Command(name = "predict", mixinStandardHelpOptions = true,
        description = {"Predict depth with Depth Anything V2, as the official infer_image does, or with a Depth Anything 3 "
                + "monocular model (da3mono, da3metric), as the official inference() does at --process-res, then "
                + "resized to the image.",
            "V2 relative models: <stem>.npy (float32 inverse depth, H x W, the image's size) and <stem>.png (colour-mapped).",
            "Depth Anything 3 mono: <stem>.npy (float32 relative depth, larger = farther) and <stem>.png; Depth "
                + "Anything 3 (both): <stem>_sky.png (255 = sky).",
            "Metric models (and da3metric with --focal or --intrinsics): depth in mm: <stem>.npy (float32 mm), <stem>_mm.png (16-bit mm, clamped to 65535) and "
                + "<stem>.png (colour-mapped, colour bar in mm).",
            "In a folder, an image that cannot be read, predicted or written is left out and listed at the end with "
                + "the reason; the others are written (exit 1; --fail-fast: stop at it, exit 2)."})
public final class PredictCommand implements Callable<Integer> {

    @Option(names = "--onnx", paramLabel = "FILE",
            description = "An exported model (lora export --format onnx), run in ONNX Runtime instead of libtorch; a "
                    + "Depth Anything 3 graph (outputs depth and sky) gives what its weights give (--process-res for a "
                    + "dynamic graph, --no-sky-fill, --focal).")
    Path onnx;

    @Option(names = "--input", required = true, paramLabel = "IMAGE|DIR", description = "An image or a folder of images.")
    Path input;

    @Option(names = "--output", required = true, paramLabel = "DIR", description = "Folder for the results (created).")
    Path output;

    @Mixin
    Da3Options da3;

    @Option(names = "--batch-size", defaultValue = "1",
            description = "Images of the same size predicted together. Default: ${DEFAULT-VALUE}.")
    int batchSize;

    @Mixin
    MemoryCheckOption memory;

    @Mixin
    ModelOptions model;

    @Mixin
    ModelOptions.InputSize inputSize;

    @Mixin
    FailFastOption failFast;

    @Spec
    CommandSpec spec;

    @Mixin
    CommonOptions common;

    @Mixin
    GeometryOptions geometry;

    private DepthWriter writer;
    private GeometryOptions.Outputs geometryOutputs;
    private BatchFailures failures;

    @Override
    public Integer call() throws IOException {
        if (onnx != null && (model.given() || model.modelConfig() != null)) {
            throw new LoraException("--onnx: the file is the whole model; drop --weights/--checkpoint/--model-config");
        }
        ModelSource source = onnx != null ? null : model.source(); // --weights or --checkpoint, before any file is read
        if (batchSize < 1) {
            throw new LoraException("--batch-size " + batchSize + ": must be at least 1");
        }
        da3.check();
        // every file predict reads: the images, the model's files (a checkpoint's base weights too), --align-to,
        // --intrinsics FILE.json, --intrinsics-from; the folder rules now, each output file once its names are known
        OutputGuard guard = OutputGuard.ofFolder("--output", output).input("--input", input)
                .inputs(model.files()).input("--onnx", onnx).inputs(geometry.inputs());
        guard.check();
        List<Path> images = listImages(input);
        geometry.check(true); // --intrinsics alone is a da3metric model's focal: checked again once the model is known
        if (onnx == null) {
            Compute.setThreads(common.threads); // libtorch; ONNX Runtime gets --threads per session
        }
        DepthPredictor.loadOpenCv();
        ResolvedModel resolved = onnx != null ? null : ModelResolver.resolve(source,
                ModelResolver.Options.inputSize(inputSize.value()).runs("predict", ModelResolver.Da3.ALL));
        // an exported graph: a Depth Anything 3 one (outputs depth and sky) runs the same steps as its weights
        OnnxRuntimeModel graph = onnx != null ? OnnxRuntimeModel.open(onnx, common.threads) : null;
        DepthEstimator.Da3Options da3Options;
        ModelConfig.Family family;
        try {
            family = graph != null ? graph.family() : resolved.architecture().family();
            da3Options = da3Options(family, images, graph != null);
        } catch (RuntimeException e) {
            if (graph != null) {
                graph.close();
            }
            throw e;
        }
        try (DepthEstimator estimator = graph != null
                ? DepthEstimator.fromOnnx(onnx, graph, inputSize.value(), da3Options)
                : DepthEstimator.of(resolved, common.device.name(), da3Options)) {
            // before any image is decoded: the network size each image gets, from its header
            if (estimator.config() != null) {
                MemoryCheck.require("predict", estimator.sizeRule(), images,
                        MemoryCheck.inference(estimator.config(), batchSize), memory.enabled());
            }
            writer = family.isDa3() ? DepthWriter.da3(estimator.isMetric()) : DepthWriter.of(estimator.isMetric());
            // Depth Anything 3 mono predicts relative depth: aligned to --align-to as depth (metrics.DepthAlignment)
            geometryOutputs = geometry.outputs(images, estimator.isMetric(), family == ModelConfig.Family.DA3MONO
                    ? GeometryOutputs.Predicted.DEPTH : GeometryOutputs.Predicted.DISPARITY,
                    family == ModelConfig.Family.DA3METRIC); // checks before writing
            // no two images write one file, and no file written is an input (a.png and a.jpg; --align-to x.npy
            // in --output beside the image x.png)
            Map<Path, List<Path>> files = OutputNames.claim("predict", output, images, this::fileNames,
                    "named by the image's file name without its extension");
            guard.inputs("--input", images).outputFiles("--output",
                    files.values().stream().flatMap(List::stream).toList()).check();
            try (ProgressBar bar = new ProgressBarBuilder().setTaskName("predict").setInitialMax(images.size())
                    .setStyle(ProgressBarStyle.ASCII).setConsumer(new ConsoleProgressBarConsumer(System.err))
                    .build()) {
                List<Mat> pending = new ArrayList<>();
                List<Path> names = new ArrayList<>();
                failures = failFast.failures(images.size());
                for (Path p : images) {
                    Mat[] read = new Mat[1];
                    if (!failures.attempt(p, () -> read[0] = Cv.imread(p, Imgcodecs.IMREAD_COLOR, "image"))) {
                        bar.step();
                        continue;
                    }
                    Mat m = read[0];
                    if (!pending.isEmpty() && (pending.size() == batchSize || m.rows() != pending.get(0).rows()
                            || m.cols() != pending.get(0).cols())) {
                        flush(estimator, pending, names, bar);
                    }
                    pending.add(m);
                    names.add(p);
                }
                flush(estimator, pending, names, bar);
            }
        }
        return failures.finish("predict", images.size(), spec.commandLine().getErr());
    }

    /** --process-res, --no-sky-fill, --focal, --intrinsics: a Depth Anything 3 model's, refused for a V2 one. */
    private DepthEstimator.Da3Options da3Options(ModelConfig.Family family, List<Path> images, boolean onnxGraph) {
        // the focal: --focal, else --intrinsics / --intrinsics-from (refused without either)
        return da3.of(family, inputSize.value(), onnxGraph, () -> geometry.intrinsics(images));
    }

    private void flush(DepthEstimator estimator, List<Mat> pending, List<Path> names, ProgressBar bar) {
        if (pending.isEmpty()) {
            return;
        }
        List<Prediction> depths;
        try {
            depths = estimator.predict(pending);
        } catch (RuntimeException e) {
            for (int i = 0; i < pending.size(); i++) {
                pending.get(i).release();
                failures.fail(names.get(i), e);
                bar.step();
            }
            pending.clear();
            names.clear();
            return;
        }
        for (int i = 0; i < pending.size(); i++) {
            Prediction d = depths.get(i);
            String stem = stem(names.get(i));
            Path name = names.get(i);
            failures.attempt(name, () -> {
                // the image's other inputs (sensor depth and its size, colours) read and checked before any file
                GeometryOptions.Prepared g = geometryOutputs == null ? null
                        : geometryOutputs.prepare(name, d.values(), d.height(), d.width());
                createOutput();
                writer.write(output, stem, d.values(), d.height(), d.width());
                if (d.sky() != null) {
                    writer.writeSky(output, stem, d.sky(), d.height(), d.width());
                }
                if (g != null) {
                    g.write(output, stem);
                }
            });
            pending.get(i).release();
            bar.step();
        }
        pending.clear();
        names.clear();
    }

    /** Every file predict may write for one image: the depth files, then --align-to's and --point-cloud's. */
    private List<String> fileNames(Path image) {
        String stem = stem(image);
        List<String> out = new ArrayList<>(writer.fileNames(stem));
        if (geometryOutputs != null) {
            out.addAll(geometryOutputs.fileNames(stem));
        }
        return out;
    }

    /** The output folder, created at the first write (a refusal before it leaves nothing). */
    private void createOutput() {
        try {
            Files.createDirectories(output);
        } catch (IOException e) {
            throw BatchFailures.stopsTheBatch(LoraException.file(output, "cannot create the output folder ("
                    + e.getMessage() + ")", e));
        }
    }

    static String stem(Path p) {
        return OutputNames.stem(p);
    }

    /** The image itself, or the folder's images (by extension) in name order. */
    static List<Path> listImages(Path input) throws IOException {
        if (Files.isRegularFile(input)) {
            return List.of(input);
        }
        if (!Files.isDirectory(input)) {
            throw LoraException.file(input, "no such file or folder");
        }
        List<Path> out;
        try (Stream<Path> s = Files.list(input)) {
            out = new ArrayList<>(s.filter(Files::isRegularFile)
                    .filter(p -> {
                        String n = p.getFileName().toString().toLowerCase(Locale.ROOT);
                        int dot = n.lastIndexOf('.');
                        return dot > 0 && Pairing.IMAGE_EXTENSIONS.contains(n.substring(dot + 1));
                    })
                    .sorted()
                    .toList());
        }
        if (out.isEmpty()) {
            throw LoraException.file(input, "no images (" + String.join(", ", Pairing.IMAGE_EXTENSIONS) + ") in the folder");
        }
        return out;
    }
}
