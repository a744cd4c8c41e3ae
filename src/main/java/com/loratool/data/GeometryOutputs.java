package com.loratool.data;

import com.loratool.LoraException;
import com.loratool.config.DataConfig;
import com.loratool.io.AtomicFiles;
import com.loratool.io.Json;
import com.loratool.io.Npy;
import com.loratool.io.Ply;
import com.loratool.metrics.Alignment;
import com.loratool.metrics.DepthAlignment;
import com.loratool.metrics.DisparityAlignment;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.opencv.core.Mat;
import org.opencv.imgcodecs.Imgcodecs;

/**
 * The metric outputs of {@code lora predict} for a relative model next to a depth sensor:
 * per image, the prediction aligned to the sensor's depth ({@code <stem>_depth.npy}: a V2 disparity by
 * {@link DisparityAlignment}, a Depth Anything 3 mono depth by {@link DepthAlignment}, {@link Predicted}),
 * optionally the sensor's depth completed with it ({@code <stem>_completed.npy}) and a point cloud
 * ({@code <stem>.ply}, plus {@code <stem>_xyz.npy} when the depth files are not XYZ already), and
 * {@code <stem>_align.json} (scale, shift, intrinsics). Depth files take the sensor file's layout:
 * {@code H x W x 3} XYZ (mm, the camera export's layout) when it is an organised cloud, else
 * {@code H x W} Z (mm). In the XYZ layout the completed cloud keeps the sensor's own X, Y, Z at
 * measured pixels; everything else is back-projected through the intrinsics. See
 * {@link DepthCompletion} for the formulas.
 */
public final class GeometryOutputs {
    /**
     * What to write. {@code alignTo}: a depth file (used for every image) or a folder paired by
     * stem; {@code intrinsics}: given or fitted elsewhere (resized to each image when its grid is
     * known), else fitted from each XYZ sensor file itself.
     */
    public record Settings(Path alignTo, boolean robust, boolean complete, boolean pointCloud, boolean asciiPly,
            CameraIntrinsics intrinsics, Predicted predicted) {
        public Settings {
            if (robust && predicted == Predicted.DEPTH) {
                throw new LoraException("--align robust: the Huber fit is in disparity (Depth Anything V2); a Depth "
                        + "Anything 3 mono depth is aligned by least squares (--align ls)");
            }
        }

        /** A disparity prediction (Depth Anything V2, or a metric model's 1/depth). */
        public Settings(Path alignTo, boolean robust, boolean complete, boolean pointCloud, boolean asciiPly,
                        CameraIntrinsics intrinsics) {
            this(alignTo, robust, complete, pointCloud, asciiPly, intrinsics, Predicted.DISPARITY);
        }
    }

    /** What the prediction is, which decides how it is aligned to the sensor's depth. */
    public enum Predicted {
        /** Relative disparity (V2; a metric model's 1/depth): {@link DisparityAlignment}, scale and shift of 1/Z. */
        DISPARITY,
        /** Relative depth (Depth Anything 3 mono, larger = farther): {@link DepthAlignment}, scale and shift of Z. */
        DEPTH
    }

    /**
     * The one spelling of each output's name ({@code <stem>} + suffix): {@link #fileNames} (the names predict claims
     * through {@code io.OutputNames}) and the writers both build names from these.
     */
    private static final String DEPTH = "_depth.npy";
    private static final String COMPLETED = "_completed.npy";
    private static final String ALIGN = "_align.json";
    private static final String XYZ = "_xyz.npy";
    private static final String PLY = ".ply";

    private final Settings settings;
    private final DataConfig depthConfig;
    private final Map<Path, Path> sensorFiles = new HashMap<>();

    /** Pairs every image with its sensor file before anything is written. */
    public GeometryOutputs(Settings settings, List<Path> images) {
        if (settings.alignTo() == null) {
            throw new IllegalArgumentException("alignTo is required");
        }
        this.settings = settings;
        Path a = settings.alignTo();
        this.depthConfig = DataConfig.defaults(Files.isDirectory(a) ? a : a.toAbsolutePath().getParent());
        if (Files.isRegularFile(a)) {
            for (Path img : images) {
                sensorFiles.put(img, a);
            }
        } else if (Files.isDirectory(a)) {
            Map<String, Path> byStem = depthFilesByStem(a);
            List<String> missing = new ArrayList<>();
            for (Path img : images) {
                String stem = Pairing.stem(img.getFileName().toString(), DataConfig.DEFAULT_SUFFIXES);
                Path f = byStem.get(stem);
                if (f == null) {
                    missing.add(img.getFileName().toString());
                } else {
                    sensorFiles.put(img, f);
                }
            }
            if (!missing.isEmpty()) {
                throw LoraException.file(a, "no depth file for " + missing.size() + " image(s): "
                        + String.join(", ", missing.subList(0, Math.min(5, missing.size())))
                        + (missing.size() > 5 ? ", ..." : "") + " (paired by stem)");
            }
        } else if (Files.exists(a)) {
            throw LoraException.file(a, "is a special file (FIFO, socket or device), not a depth file or folder");
        } else {
            throw LoraException.file(a, "no such depth file or folder");
        }
    }

    private static Map<String, Path> depthFilesByStem(Path dir) {
        Map<String, Path> out = new HashMap<>();
        try (Stream<Path> s = Files.list(dir)) {
            for (Path f : s.filter(Files::isRegularFile).sorted().toList()) {
                if (!Pairing.DEPTH_EXTENSIONS.contains(Pairing.extension(f))) {
                    continue;
                }
                String stem = Pairing.stem(f.getFileName().toString(), DataConfig.DEFAULT_SUFFIXES);
                Path old = out.put(stem, f);
                if (old != null) {
                    throw LoraException.file(dir, "two depth files for stem " + stem + ": "
                            + old.getFileName() + ", " + f.getFileName());
                }
            }
        } catch (IOException e) {
            throw LoraException.file(dir, "cannot list (" + e.getMessage() + ")", e);
        }
        return out;
    }

    /** The files written for one image, for messages and tests. */
    public record Written(List<Path> files, Alignment alignment, CameraIntrinsics intrinsics) {}

    /**
     * The names {@link #write} may write for {@code stem} (the XYZ cloud {@code <stem>_xyz.npy} only when
     * the sensor file is not XYZ itself: listed all the same), for {@code io.OutputNames}.
     */
    public List<String> fileNames(String stem) {
        List<String> out = new ArrayList<>(List.of(stem + DEPTH));
        if (settings.complete()) {
            out.add(stem + COMPLETED);
        }
        if (settings.pointCloud()) {
            out.addAll(cloudFileNames(stem, true));
        }
        out.add(stem + ALIGN);
        return out;
    }

    /** The sensor files the images are aligned to (the --align-to file, or each image's file of the folder). */
    public List<Path> sensorFiles() {
        return sensorFiles.values().stream().distinct().toList();
    }

    /** Aligns {@code pred} (disparity, h x w, the image's size) and writes {@code <stem>_*} into {@code dir}. */
    public Written write(Path dir, String stem, Path image, float[] pred, int h, int w) {
        return prepare(image, pred, h, w).write(dir, stem);
    }

    /**
     * Everything one image's outputs need, read and checked, nothing written: the sensor depth (its
     * size against the image's), the fit, the intrinsics and the image's colours for a point cloud. A
     * refusal here leaves no file of the image behind.
     */
    public Prepared prepare(Path image, float[] pred, int h, int w) {
        Path file = sensorFiles.get(image);
        PointCloud cloud = PointCloud.readIfXyz(file, depthConfig);
        DepthMap sensor = cloud != null ? new DepthMap(cloud.h(), cloud.w(), cloud.z())
                : DepthReader.read(file, depthConfig);
        float[] z = sensor.z();
        int zh = sensor.h();
        int zw = sensor.w();
        if (zh != h || zw != w) {
            throw LoraException.file(file, "depth is " + zh + "x" + zw + " but image " + image.getFileName() + " is "
                    + h + "x" + w + " (sensor depth must be registered to the colour image)");
        }
        Alignment a;
        if (settings.predicted() == Predicted.DEPTH) {
            a = DepthAlignment.fit(pred, z, DisparityAlignment.measured(z, null));
            if (!a.fitted()) {
                throw LoraException.file(file, "no measured pixel to align the prediction to");
            }
        } else {
            try {
                a = DepthCompletion.fit(pred, z, settings.robust());
            } catch (IllegalArgumentException e) {
                throw LoraException.file(file, "no measured pixel to align the prediction to");
            }
        }
        float[] aligned = new float[pred.length];
        for (int i = 0; i < pred.length; i++) {
            aligned[i] = (float) a.depth(pred[i]);
        }
        float[] completed = settings.complete() ? DepthCompletion.complete(aligned, z, h, w) : null;
        CameraIntrinsics k = settings.intrinsics() != null
                ? settings.intrinsics().onGrid(w, h, "--intrinsics " + settings.intrinsics() + " on " + image.getFileName())
                : cloud != null ? IntrinsicsFit.of(cloud, file).intrinsics() : null;
        if (settings.pointCloud() && k == null) {
            throw LoraException.file(file, "--point-cloud needs intrinsics: give --intrinsics or --intrinsics-from "
                    + "(or align to an XYZ point-cloud file, whose intrinsics are fitted)");
        }
        byte[] colours = settings.pointCloud() ? colours(image, h, w) : null;
        return new Prepared(image, file, cloud, a, aligned, completed, k, colours, h, w);
    }

    /** One image's outputs, computed and checked ({@link #prepare}); {@link #write(Path, String)} writes them. */
    public final class Prepared {
        private final Path image;
        private final Path file;
        private final PointCloud cloud;
        private final Alignment a;
        private final float[] aligned;
        private final float[] completed;
        private final CameraIntrinsics k;
        private final byte[] colours;
        private final int h;
        private final int w;

        private Prepared(Path image, Path file, PointCloud cloud, Alignment a, float[] aligned,
                float[] completed, CameraIntrinsics k, byte[] colours, int h, int w) {
            this.image = image;
            this.file = file;
            this.cloud = cloud;
            this.a = a;
            this.aligned = aligned;
            this.completed = completed;
            this.k = k;
            this.colours = colours;
            this.h = h;
            this.w = w;
        }

        /** Writes {@code <stem>_*} into {@code dir}, each file atomically. */
        public Written write(Path dir, String stem) {
            boolean xyz = cloud != null;
            List<Path> written = new ArrayList<>();
            written.add(writeDepth(dir.resolve(stem + DEPTH), aligned, h, w, xyz ? k : null));
            if (completed != null) {
                Path f = dir.resolve(stem + COMPLETED);
                if (xyz) {
                    keepMeasured(PointCloud.fromDepth(completed, h, w, k), cloud).writeNpy(f);
                } else {
                    Npy.write(f, new long[] {h, w}, completed);
                }
                written.add(f);
            }
            if (settings.pointCloud()) {
                float[] fin = completed != null ? completed : aligned;
                if (xyz && completed != null) {
                    Path ply = dir.resolve(stem + PLY);
                    Ply.write(ply, keepMeasured(PointCloud.fromDepth(fin, h, w, k), cloud).xyz(), colours,
                            settings.asciiPly());
                    written.add(ply);
                } else {
                    written.addAll(writeCloud(dir, stem, PointCloud.fromDepth(fin, h, w, k), !xyz, settings.asciiPly(),
                            colours));
                }
            }
            Map<String, Object> info = new LinkedHashMap<>();
            info.put("image", image.toString());
            info.put("depth", file.toString());
            info.put("fit", settings.robust() ? "huber" : "least_squares");
            if (a instanceof DepthAlignment d) { // Z ~ s p + t, floored at a tenth of the nearest measured depth
                info.put("aligned", "depth");
                info.put("scale", d.scale());
                info.put("shift", d.shift());
                info.put("depth_floor_mm", d.floor());
            } else { // 1/Z ~ s p + t, capped at ten times the farthest measured depth
                DisparityAlignment d = (DisparityAlignment) a;
                info.put("aligned", "disparity");
                info.put("scale", d.scale());
                info.put("shift", d.shift());
                info.put("depth_cap_mm", 1.0 / d.floor());
            }
            info.put("layout", xyz ? "xyz" : "z");
            if (k != null) {
                info.put("intrinsics", k.toJson());
            }
            Path json = dir.resolve(stem + ALIGN);
            AtomicFiles.writeString(json, Json.pretty(info) + "\n");
            written.add(json);
            return new Written(written, a, k);
        }
    }

    /** {@code filled} with the sensor's own X, Y, Z at its measured pixels (bit for bit). */
    private static PointCloud keepMeasured(PointCloud filled, PointCloud sensor) {
        float[] out = filled.xyz();
        float[] in = sensor.xyz();
        for (int i = 0; i < in.length; i += 3) {
            if (DepthMap.measured(in[i + 2])) {
                out[i] = in[i];
                out[i + 1] = in[i + 1];
                out[i + 2] = in[i + 2];
            }
        }
        return filled;
    }

    private static Path writeDepth(Path file, float[] z, int h, int w, CameraIntrinsics xyz) {
        if (xyz != null) {
            PointCloud.fromDepth(z, h, w, xyz).writeNpy(file);
        } else {
            Npy.write(file, new long[] {h, w}, z);
        }
        return file;
    }

    /** The names {@link #writeCloud} writes for {@code stem}. */
    public static List<String> cloudFileNames(String stem, boolean npy) {
        return npy ? List.of(stem + XYZ, stem + PLY) : List.of(stem + PLY);
    }

    /**
     * {@code <stem>.ply} (and {@code <stem>_xyz.npy} if {@code npy}) of metric depth {@code z}
     * (mm, h x w) through intrinsics {@code k}; for any metric depth, e.g. a metric model's.
     */
    public static List<Path> writeCloud(Path dir, String stem, float[] z, int h, int w, CameraIntrinsics k,
            boolean npy, boolean ascii) {
        return writeCloud(dir, stem, z, h, w, k, npy, ascii, null);
    }

    /** As above, each vertex coloured with its pixel of {@code image} (null: no colour). */
    public static List<Path> writeCloud(Path dir, String stem, float[] z, int h, int w, CameraIntrinsics k,
            boolean npy, boolean ascii, Path image) {
        return writeCloud(dir, stem, PointCloud.fromDepth(z, h, w, k), npy, ascii,
                image != null ? colours(image, h, w) : null);
    }

    /** A cloud and its vertices' colours ({@link #colours}; null: none), read and checked before: only writes. */
    public static List<Path> writeCloud(Path dir, String stem, PointCloud c, boolean npy, boolean ascii, byte[] colours) {
        List<Path> out = new ArrayList<>();
        if (npy) {
            Path f = dir.resolve(stem + XYZ);
            c.writeNpy(f);
            out.add(f);
        }
        Path ply = dir.resolve(stem + PLY);
        Ply.write(ply, c.xyz(), colours, ascii);
        out.add(ply);
        return out;
    }

    /**
     * The image's 8-bit RGB per pixel (r0 g0 b0 r1 ..., row-major), for coloured point clouds as
     * the official depth_to_pointcloud.py writes them; the image must be h x w (the depth's grid).
     */
    public static byte[] colours(Path image, int h, int w) {
        Mat bgr = Cv.imread(image, Imgcodecs.IMREAD_COLOR, "image");
        try {
            if (bgr.rows() != h || bgr.cols() != w) {
                throw LoraException.file(image, "is " + bgr.rows() + "x" + bgr.cols() + " but its depth is " + h + "x" + w);
            }
            byte[] px = new byte[h * w * 3]; // IMREAD_COLOR: 8-bit BGR whatever the file's depth
            bgr.get(0, 0, px);
            for (int i = 0; i < px.length; i += 3) {
                byte b = px[i];
                px[i] = px[i + 2];
                px[i + 2] = b;
            }
            return px;
        } finally {
            bgr.release();
        }
    }
}
