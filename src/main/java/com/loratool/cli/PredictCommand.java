package com.loratool.cli;

import com.loratool.LoraException;
import com.loratool.api.DepthEstimator;
import com.loratool.api.Prediction;
import com.loratool.data.Cv;
import com.loratool.data.Pairing;
import com.loratool.io.BatchFailures;
import com.loratool.io.OutputGuard;
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
        description = {"Predict depth with Depth Anything V2, as the official infer_image does.",
            "Relative models: <stem>.npy (float32 inverse depth, H x W, the image's size) and <stem>.png (colour-mapped).",
            "Metric models: depth in mm: <stem>.npy (float32 mm), <stem>_mm.png (16-bit mm, clamped to 65535) and "
                + "<stem>.png (colour-mapped, colour bar in mm)."})
public final class PredictCommand implements Callable<Integer> {

    @Option(names = "--weights", paramLabel = "FILE",
            description = "Checkpoint: official .pth or .safetensors (official or Hugging Face names). "
                    + "With --checkpoint: the adapters' base weights, if moved.")
    Path weights;

    // eval helper: adapters of a training checkpoint on top of their base weights
    @Option(names = "--checkpoint", paramLabel = "DIR",
            description = "A LoRA checkpoint folder (runs/<run>/best): its adapters on their base weights "
                    + "(recorded path and SHA-256).")
    Path checkpoint;

    @Option(names = "--model-config", paramLabel = "FILE",
            description = "YAML with the architecture (model: embed_dim, depth, num_heads, ...) or a preset name "
                    + "(vits-metric-indoor, ...); needed for non-official sizes and metric .pth files not named as "
                    + "the official ones.")
    Path modelConfig;

    @Option(names = "--input", required = true, paramLabel = "IMAGE|DIR", description = "An image or a folder of images.")
    Path input;

    @Option(names = "--output", required = true, paramLabel = "DIR", description = "Folder for the results (created).")
    Path output;

    @Option(names = "--input-size", paramLabel = "N",
            description = "Short side of the network input (rounded to multiples of 14). Default: with --checkpoint the "
                    + "size rule its run was trained with (data.size / data.scale / data.input_size, as lora eval), "
                    + "else 518.")
    Integer inputSize;

    @Option(names = "--batch-size", defaultValue = "1",
            description = "Images of the same size predicted together. Default: ${DEFAULT-VALUE}.")
    int batchSize;

    @Option(names = "--no-memory-check",
            description = "Skip the check that each image's prediction fits in the available memory (estimated from "
                    + "its header and the network size before decoding; docs/model.md).")
    boolean noMemoryCheck;

    @Option(names = "--fail-fast",
            description = "Stop at the first image that cannot be read, predicted or written (default: go on, list the "
                    + "failures at the end, exit 1).")
    boolean failFast;

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
        if (weights == null && checkpoint == null) {
            throw new LoraException("give --weights FILE or --checkpoint DIR");
        }
        if (batchSize < 1) {
            throw new LoraException("--batch-size " + batchSize + ": must be at least 1");
        }
        OutputGuard.ofFolder("--output", output).input("--input", input).input("--weights", weights)
                .input("--checkpoint", checkpoint).input("--model-config", modelConfig)
                .output("--output's file", Files.isRegularFile(input) ? output.resolve(stem(input) + ".png") : null).check();
        List<Path> images = listImages(input);
        geometry.check();
        Compute.setThreads(common.threads);
        DepthPredictor.loadOpenCv();
        try (DepthEstimator estimator = DepthEstimator.builder().weights(weights).checkpoint(checkpoint)
                .modelConfig(modelConfig).inputSize(inputSize).device(common.device.name()).build()) {
            // before any image is decoded: the network size each image gets, from its header
            MemoryCheck.require("predict", estimator.sizeRule(), images,
                    MemoryCheck.inference(estimator.config(), batchSize), !noMemoryCheck);
            writer = DepthWriter.of(estimator.config());
            geometryOutputs = geometry.outputs(images, estimator.config().isMetric()); // checks before writing
            Files.createDirectories(output);
            try (ProgressBar bar = new ProgressBarBuilder().setTaskName("predict").setInitialMax(images.size())
                    .setStyle(ProgressBarStyle.ASCII).setConsumer(new ConsoleProgressBarConsumer(System.err))
                    .build()) {
                List<Mat> pending = new ArrayList<>();
                List<Path> names = new ArrayList<>();
                failures = new BatchFailures(failFast || images.size() == 1);
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
                writer.write(output, stem, d.values(), d.height(), d.width());
                if (geometryOutputs != null) {
                    geometryOutputs.write(output, stem, name, d.values(), d.height(), d.width());
                }
            });
            pending.get(i).release();
            bar.step();
        }
        pending.clear();
        names.clear();
    }

    static String stem(Path p) {
        String n = p.getFileName().toString();
        int dot = n.lastIndexOf('.');
        return dot > 0 ? n.substring(0, dot) : n;
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
