package com.loratool.cli;

import com.loratool.LoraException;
import com.loratool.config.DataConfig;
import com.loratool.data.CameraIntrinsics;
import com.loratool.data.IntrinsicsFit;
import com.loratool.data.PointCloud;
import com.loratool.io.AtomicFiles;
import com.loratool.io.BatchFailures;
import com.loratool.io.Json;
import com.loratool.io.OutputGuard;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code lora data intrinsics}: pinhole fx, fy, cx, cy fitted to measured organised XYZ clouds. */
@Command(name = "intrinsics", mixinStandardHelpOptions = true,
        description = {"Fit pinhole intrinsics (fx, fy, cx, cy in pixels) to organised H x W x 3 XYZ clouds by least "
                + "squares: X/Z = (u - cx)/fx, Y/Z = (v - cy)/fy over measured pixels (docs/geometry.md).",
            "Prints one fit per file and, for several files, one joint fit (same camera, same resolution).",
            "A file that cannot be read or fitted is left out of the joint fit (and of --json's files, listed under "
                + "left_out) and listed at the end with the reason; the exit code is then 1 (--fail-fast: stop at "
                + "it, exit 2)."})
final class IntrinsicsCommand implements Callable<Integer> {
    @Option(names = "--data", required = true, paramLabel = "DIR|FILE",
            description = "An XYZ .npy/.npz file, a data folder (its depth/ sub-folder) or a folder of clouds.")
    Path data;

    @Option(names = "--json", paramLabel = "FILE",
            description = "Write the (joint) fit as JSON; --intrinsics FILE.json of lora predict reads it.")
    Path json;

    @Option(names = "--npz-key", description = "Array name inside .npz files.")
    String npzKey;

    @Mixin
    FailFastOption failFast;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        List<Path> files = clouds(data);
        // the clouds it reads (the file, or the folder listed) and each of them: --json never replaces one
        OutputGuard.of("--json", json).input("--data", Files.isRegularFile(data) ? data : files.get(0).getParent())
                .inputs("--data", files).check();
        DataConfig cfg = DataConfig.defaults(Files.isDirectory(data) ? data : data.toAbsolutePath().getParent());
        if (npzKey != null) {
            cfg = new DataConfig(cfg.root(), cfg.imagesDir(), cfg.depthDir(), null, null, null, null, null, null,
                    null, null, null, null, null, false, "mm", 1.0, npzKey);
        }
        PrintWriter out = spec.commandLine().getOut();
        int nameW = Math.max(4, files.stream().mapToInt(f -> f.getFileName().toString().length()).max().orElse(4));
        String fmt = "%-" + nameW + "s  %10s  %10s  %9s  %9s  %9s  %8s  %9s%n";
        out.printf(fmt, "file", "fx", "fy", "cx", "cy", "pixels", "rms px", "rms mm");
        BatchFailures failures = failFast.failures(files.size());
        List<Path> fitted = new ArrayList<>();
        List<IntrinsicsFit> fits = new ArrayList<>();
        DataConfig config = cfg;
        for (Path f : files) {
            failures.attempt(f, () -> {
                IntrinsicsFit fit = IntrinsicsFit.of(PointCloud.read(f, config), f);
                print(out, fmt, f.getFileName().toString(), fit);
                fitted.add(f);
                fits.add(fit);
            });
        }
        if (fitted.isEmpty()) { // every file failed (a single file's failure was thrown)
            return failures.finish("data intrinsics", files.size(), spec.commandLine().getErr());
        }
        double worst = fits.stream().mapToDouble(IntrinsicsFit::rmsPixels).max().orElse(0);
        IntrinsicsFit result = fits.get(fits.size() - 1);
        if (fitted.size() > 1) {
            // the files that could be read and fitted alone; the others are listed at the end
            result = IntrinsicsFit.joint(fitted, cfg);
            print(out, fmt, "joint (" + fitted.size() + " files)", result);
            if (result.rmsPixels() > 2 * worst + 0.05) {
                out.printf(Locale.ROOT, "note: the joint fit's residual (%.3f px) is well above every single file's "
                        + "(at most %.3f px): the files do not share one camera setting%n", result.rmsPixels(), worst);
            }
        }
        out.println("rms px: reprojection residual in pixels (u and v together); rms mm: the same in X and Y (mm)");
        if (json != null) {
            Map<String, Object> m = new LinkedHashMap<>(result.toJson());
            m.put("files", fitted.stream().map(Path::toString).toList());
            List<Map<String, String>> leftOut = new ArrayList<>();
            for (BatchFailures.Failure x : failures.failures()) {
                Map<String, String> e = new LinkedHashMap<>();
                e.put("file", x.file().toString());
                e.put("reason", x.reason());
                leftOut.add(e);
            }
            m.put("left_out", leftOut);
            AtomicFiles.writeString(json, Json.pretty(m) + "\n");
            out.println("wrote " + json);
        }
        return failures.finish("data intrinsics", files.size(), spec.commandLine().getErr());
    }

    private static void print(PrintWriter out, String fmt, String name, IntrinsicsFit fit) {
        CameraIntrinsics k = fit.intrinsics();
        out.printf(Locale.ROOT, fmt, name, f(k.fx()), f(k.fy()), f(k.cx()), f(k.cy()), fit.pixels(),
                String.format(Locale.ROOT, "%.4f", fit.rmsPixels()), String.format(Locale.ROOT, "%.4f", fit.rmsMm()));
    }

    private static String f(double v) {
        return String.format(Locale.ROOT, "%.3f", v);
    }

    /** The file itself, or the .npy/.npz files of DIR/depth (if present) or DIR, in name order. */
    static List<Path> clouds(Path data) throws IOException {
        if (Files.isRegularFile(data)) {
            return List.of(data);
        }
        if (!Files.isDirectory(data)) {
            throw LoraException.file(data, "no such file or folder");
        }
        Path dir = Files.isDirectory(data.resolve("depth")) ? data.resolve("depth") : data;
        List<Path> out;
        try (Stream<Path> s = Files.list(dir)) {
            out = new ArrayList<>(s.filter(Files::isRegularFile).filter(p -> {
                String n = p.getFileName().toString().toLowerCase(Locale.ROOT);
                return n.endsWith(".npy") || n.endsWith(".npz");
            }).sorted().toList());
        }
        if (out.isEmpty()) {
            throw LoraException.file(dir, "no .npy/.npz point clouds in the folder");
        }
        return out;
    }
}
