package com.loratool.cli;

import com.loratool.LoraException;
import com.loratool.api.DepthEstimator;
import com.loratool.data.CameraIntrinsics;
import com.loratool.model.Da3Predictor;
import com.loratool.model.ModelConfig;
import java.util.function.Supplier;
import picocli.CommandLine.Option;

/**
 * How a Depth Anything 3 model predicts: {@code --process-res}, {@code --no-sky-fill} and
 * {@code --focal} of {@code lora predict} and {@code lora serve} (a picocli mixin, defined once),
 * made into the library's {@link DepthEstimator.Da3Options} once the model's family is known. The
 * camera file ({@code --intrinsics}) is each command's own option (predict's also serves
 * {@code --point-cloud}), handed in here as the focal's other source.
 */
public final class Da3Options {

    @Option(names = "--process-res", paramLabel = "N",
            description = "Depth Anything 3: process_res of the official upper_bound_resize (longest side to N, sides "
                    + "to multiples of 14). Default: 504, the official default.")
    Integer processRes;

    @Option(names = "--no-sky-fill",
            description = "Depth Anything 3: skip the sky post-processing (sky pixels keep the head's depth instead of "
                    + "the 0.99 quantile of the other pixels).")
    boolean noSkyFill;

    @Option(names = "--focal", paramLabel = "PX",
            description = "Depth Anything 3 metric: focal length in pixels of the ORIGINAL image (scaled to the "
                    + "processed resolution; metres = focal x output / 300). Or give --intrinsics K.json.")
    Double focal;

    /** The values alone, before any file is read: a focal that is zero, negative or not finite; a tiny --process-res. */
    void check() {
        DepthEstimator.Da3Options.checkFocal(focal); // the library's rule, before any model is read
        if (processRes != null && processRes < 14) {
            throw new LoraException("--process-res " + processRes + ": must be at least 14 (one patch)");
        }
    }

    /** True when any of these options was given. */
    boolean given() {
        return processRes != null || noSkyFill || focal != null;
    }

    /**
     * The library's options for a model of {@code family}: a Depth Anything 3 one takes them (and
     * refuses {@code --input-size}); its focal is {@code --focal}, else, for da3metric, the camera
     * {@code intrinsics} gives (asked only then; null when none was given: refused in one line by
     * the estimator). A V2 model refuses them ({@code graph}: it is an exported graph).
     */
    DepthEstimator.Da3Options of(ModelConfig.Family family, Integer inputSize, boolean graph,
            Supplier<CameraIntrinsics> intrinsics) {
        check();
        if (family.isDa3()) {
            if (inputSize != null) {
                throw new LoraException("--input-size is for Depth Anything V2; a Depth Anything 3 model takes "
                        + "--process-res N (default " + Da3Predictor.DEFAULT_PROCESS_RES + ")");
            }
            return new DepthEstimator.Da3Options(processRes, !noSkyFill, focal,
                    family == ModelConfig.Family.DA3METRIC && focal == null ? intrinsics.get() : null);
        }
        if (given()) {
            throw new LoraException("--process-res, --no-sky-fill and --focal are for Depth Anything 3 models; "
                    + (graph ? "this is a Depth Anything V2 graph" : "this is a Depth Anything V2 model")
                    + " (--input-size)");
        }
        return DepthEstimator.Da3Options.DEFAULT;
    }
}
