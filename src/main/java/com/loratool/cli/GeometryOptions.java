package com.loratool.cli;

import com.loratool.LoraException;
import com.loratool.config.DataConfig;
import com.loratool.data.CameraIntrinsics;
import com.loratool.data.GeometryOutputs;
import com.loratool.data.ImageHeader;
import com.loratool.data.IntrinsicsFit;
import com.loratool.data.PointCloud;
import com.loratool.metrics.MetricDepth;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import picocli.CommandLine.Option;

/** {@code lora predict}'s options for sensor-aligned depth, completion and point clouds (docs/geometry.md). */
final class GeometryOptions {
    @Option(names = "--align-to", paramLabel = "DEPTH",
            description = "Sensor depth (a file, or a folder paired with the images by stem; any depth format of "
                    + "the data pipeline): writes <stem>_depth.npy, the prediction aligned to it in mm.")
    Path alignTo;

    @Option(names = "--align", defaultValue = "ls", paramLabel = "ls|robust",
            description = "Scale-and-shift fit in disparity: ls (least squares) or robust (Huber IRLS); a Depth "
                    + "Anything 3 mono model's depth is fitted in depth, by least squares. Default: ${DEFAULT-VALUE}.")
    String align;

    @Option(names = "--complete",
            description = "With --align-to: also <stem>_completed.npy, the sensor depth with its holes filled "
                    + "(measured pixels unchanged).")
    boolean complete;

    @Option(names = "--point-cloud",
            description = "<stem>.ply and <stem>_xyz.npy (H x W x 3, mm): a metric model's depth as it is, or with "
                    + "--align-to the completed or aligned depth. Needs intrinsics (--intrinsics, --intrinsics-from, or an "
                    + "XYZ --align-to file).")
    boolean pointCloud;

    @Option(names = "--ply-ascii", description = "Write the .ply as ASCII instead of binary little-endian.")
    boolean plyAscii;

    @Option(names = "--intrinsics", paramLabel = "fx,fy,cx,cy|FILE.json",
            description = "Pinhole intrinsics in pixels of the images' grid (or a JSON from lora data intrinsics).")
    String intrinsics;

    @Option(names = "--intrinsics-from", paramLabel = "FILE.npy",
            description = "Fit the intrinsics from a measured H x W x 3 XYZ cloud (rescaled to each image's size).")
    Path intrinsicsFrom;

    /** What predict writes besides the depth files, per image ({@code pred}: the model's output at the image's size). */
    interface Outputs {
        /** The names {@link #prepare}'s result may write for {@code stem} (for io.OutputNames). */
        List<String> fileNames(String stem);

        /** Reads and checks everything the image's outputs need (sensor depth, its size, colours); writes nothing. */
        Prepared prepare(Path image, float[] pred, int h, int w);
    }

    /** One image's outputs, ready to be written. */
    @FunctionalInterface
    interface Prepared {
        void write(Path dir, String stem);
    }

    /**
     * The writer, or null when no geometry option is set; {@code metric}: the model predicts depth
     * in metres. Checks everything before predicting. A metric model's point cloud comes from its
     * depth directly (no --align-to needed); with --align-to its disparity 1/depth is aligned like a
     * relative model's. A relative model predicts {@code predicted} (V2's disparity, Depth Anything 3
     * mono's depth: aligned as such); {@code intrinsicsGiveFocal}: see {@link #check(boolean)}.
     */
    Outputs outputs(List<Path> images, boolean metric, GeometryOutputs.Predicted predicted,
                    boolean intrinsicsGiveFocal) {
        check(intrinsicsGiveFocal);
        if (alignTo == null) {
            if (!metric && (complete || pointCloud || intrinsics != null || intrinsicsFrom != null
                    || align.equals("robust"))) {
                throw new LoraException("--complete, --point-cloud, --intrinsics and --align need --align-to DEPTH "
                        + "(a relative model predicts " + (predicted == GeometryOutputs.Predicted.DEPTH
                        ? "depth up to scale and shift" : "disparity") + ", not depth in mm)");
            }
            if (!pointCloud) {
                return null;
            }
            CameraIntrinsics k = intrinsics(images);
            if (k == null) {
                throw new LoraException("--point-cloud needs intrinsics: give --intrinsics fx,fy,cx,cy or "
                        + "--intrinsics-from FILE.npy");
            }
            boolean ascii = plyAscii;
            return new Outputs() {
                @Override
                public List<String> fileNames(String stem) {
                    return GeometryOutputs.cloudFileNames(stem, true);
                }

                @Override
                public Prepared prepare(Path image, float[] pred, int h, int w) {
                    PointCloud c = PointCloud.fromDepth(MetricDepth.toMm(pred), h, w,
                            k.onGrid(w, h, source() + " on " + image.getFileName()));
                    byte[] colours = GeometryOutputs.colours(image, h, w);
                    return (dir, stem) -> GeometryOutputs.writeCloud(dir, stem, c, true, ascii, colours);
                }
            };
        }
        GeometryOutputs g = new GeometryOutputs(new GeometryOutputs.Settings(alignTo, align.equals("robust"), complete,
                pointCloud, plyAscii, intrinsics(images), metric ? GeometryOutputs.Predicted.DISPARITY : predicted), images);
        return new Outputs() {
            @Override
            public List<String> fileNames(String stem) {
                return g.fileNames(stem);
            }

            @Override
            public Prepared prepare(Path image, float[] pred, int h, int w) {
                GeometryOutputs.Prepared p = g.prepare(image, metric ? MetricDepth.disparity(pred) : pred, h, w);
                return p::write;
            }
        };
    }

    /**
     * Every file these options read, by option, for io.OutputGuard: --align-to (the file or folder),
     * --intrinsics FILE.json, --intrinsics-from FILE.npy.
     */
    Map<String, Path> inputs() {
        Map<String, Path> out = new LinkedHashMap<>();
        if (alignTo != null) {
            out.put("--align-to", alignTo);
        }
        if (intrinsics != null && intrinsics.toLowerCase(Locale.ROOT).endsWith(".json")) {
            out.put("--intrinsics", Path.of(intrinsics));
        }
        if (intrinsicsFrom != null) {
            out.put("--intrinsics-from", intrinsicsFrom);
        }
        return out;
    }

    /**
     * The checks that do not depend on the model (run before it is loaded); {@code intrinsicsGiveFocal}:
     * --intrinsics / --intrinsics-from alone are
     * allowed (a Depth Anything 3 metric model takes its focal from them; before the model is
     * loaded, predict does not know yet).
     */
    void check(boolean intrinsicsGiveFocal) {
        if (!align.equals("ls") && !align.equals("robust")) {
            throw new LoraException("--align " + align + ": expected ls or robust");
        }
        if (intrinsics != null && intrinsicsFrom != null) {
            throw new LoraException("--intrinsics and --intrinsics-from: give one");
        }
        if (alignTo == null && (complete || align.equals("robust"))) {
            throw new LoraException("--complete and --align need --align-to DEPTH (the sensor depth to fit to)");
        }
        if (!intrinsicsGiveFocal && alignTo == null && !pointCloud && (intrinsics != null || intrinsicsFrom != null)) {
            throw new LoraException("--intrinsics and --intrinsics-from are for --point-cloud or --align-to DEPTH");
        }
    }

    /**
     * {@link #intrinsics()}, checked on every image whose size its header tells before anything is
     * predicted or written: intrinsics that are no camera's on an image (CameraIntrinsics.problem)
     * are one line naming the option, the value and the image; null when neither option is given
     * (also predict's source of a Depth Anything 3 metric model's focal). Read, fitted and checked
     * once: predict asks for the focal and for the geometry outputs of the same images.
     */
    CameraIntrinsics intrinsics(List<Path> images) {
        if (checkedFor == images) {
            return checked;
        }
        CameraIntrinsics k = intrinsics();
        if (k != null) {
            for (Path image : images) {
                ImageHeader.size(image).ifPresent(hw -> k.onGrid(hw[1], hw[0], source() + " on " + image.getFileName()));
            }
        }
        checked = k;
        checkedFor = images;
        return k;
    }

    /** {@link #intrinsics(List)}'s result and the images it was checked on. */
    private CameraIntrinsics checked;
    private List<Path> checkedFor;

    /** The option the intrinsics came from, with its value. */
    private String source() {
        return intrinsics != null ? "--intrinsics " + intrinsics : "--intrinsics-from " + intrinsicsFrom;
    }

    /** --intrinsics, or those fitted from --intrinsics-from; null when neither is given. */
    private CameraIntrinsics intrinsics() {
        if (intrinsics != null) {
            return CameraIntrinsics.parseOrRead(intrinsics);
        }
        if (intrinsicsFrom != null) {
            DataConfig cfg = DataConfig.defaults(intrinsicsFrom.toAbsolutePath().getParent());
            return IntrinsicsFit.of(PointCloud.read(intrinsicsFrom, cfg), intrinsicsFrom).intrinsics();
        }
        return null;
    }
}
