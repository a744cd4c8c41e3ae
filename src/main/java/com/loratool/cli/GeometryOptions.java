package com.loratool.cli;

import com.loratool.LoraException;
import com.loratool.config.DataConfig;
import com.loratool.data.CameraIntrinsics;
import com.loratool.data.GeometryOutputs;
import com.loratool.data.IntrinsicsFit;
import com.loratool.data.PointCloud;
import java.nio.file.Path;
import java.util.List;
import picocli.CommandLine.Option;

/** {@code lora predict}'s options for sensor-aligned depth, completion and point clouds (docs/geometry.md). */
final class GeometryOptions {
    @Option(names = "--align-to", paramLabel = "DEPTH",
            description = "Sensor depth (a file, or a folder paired with the images by stem; any depth format of "
                    + "the data pipeline): writes <stem>_depth.npy, the prediction aligned to it in mm.")
    Path alignTo;

    @Option(names = "--align", defaultValue = "ls", paramLabel = "ls|robust",
            description = "Scale-and-shift fit in disparity: ls (least squares) or robust (Huber IRLS). "
                    + "Default: ${DEFAULT-VALUE}.")
    String align;

    @Option(names = "--complete",
            description = "With --align-to: also <stem>_completed.npy, the sensor depth with its holes filled "
                    + "(measured pixels unchanged).")
    boolean complete;

    @Option(names = "--point-cloud",
            description = "With --align-to: also <stem>.ply (and <stem>_xyz.npy) of the completed or aligned depth.")
    boolean pointCloud;

    @Option(names = "--ply-ascii", description = "Write the .ply as ASCII instead of binary little-endian.")
    boolean plyAscii;

    @Option(names = "--intrinsics", paramLabel = "fx,fy,cx,cy|FILE.json",
            description = "Pinhole intrinsics in pixels of the images' grid (or a JSON from lora data intrinsics).")
    String intrinsics;

    @Option(names = "--intrinsics-from", paramLabel = "FILE.npy",
            description = "Fit the intrinsics from a measured H x W x 3 XYZ cloud (rescaled to each image's size).")
    Path intrinsicsFrom;

    /** The writer, or null when no geometry option is set. Checks everything before predicting. */
    GeometryOutputs outputs(List<Path> images) {
        if (!align.equals("ls") && !align.equals("robust")) {
            throw new LoraException("--align " + align + ": expected ls or robust");
        }
        if (intrinsics != null && intrinsicsFrom != null) {
            throw new LoraException("--intrinsics and --intrinsics-from: give one");
        }
        if (alignTo == null) {
            if (complete || pointCloud || intrinsics != null || intrinsicsFrom != null || align.equals("robust")) {
                throw new LoraException("--complete, --point-cloud, --intrinsics and --align need --align-to DEPTH "
                        + "(a relative model predicts disparity, not depth in mm)");
            }
            return null;
        }
        CameraIntrinsics k = null;
        if (intrinsics != null) {
            k = CameraIntrinsics.parseOrRead(intrinsics);
        } else if (intrinsicsFrom != null) {
            DataConfig cfg = DataConfig.defaults(intrinsicsFrom.toAbsolutePath().getParent());
            k = IntrinsicsFit.of(PointCloud.read(intrinsicsFrom, cfg), intrinsicsFrom).intrinsics();
        }
        return new GeometryOutputs(new GeometryOutputs.Settings(alignTo, align.equals("robust"), complete, pointCloud,
                plyAscii, k), images);
    }
}
