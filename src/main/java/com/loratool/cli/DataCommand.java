package com.loratool.cli;

import com.loratool.LoraException;
import com.loratool.config.DataConfig;
import com.loratool.data.DataCheck;
import com.loratool.data.Pair;
import com.loratool.data.Pairing;
import com.loratool.data.Preview;
import com.loratool.io.BatchFailures;
import com.loratool.io.OutputGuard;
import com.loratool.io.OutputNames;
import com.loratool.model.MemoryCheck;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code lora data check | preview}: inspect a data folder and look at the prepared samples. */
@Command(name = "data", mixinStandardHelpOptions = true,
        description = "Inspect a data folder (<root>/images + <root>/depth) and preview prepared samples.",
        subcommands = {DataCommand.Check.class, DataCommand.PreviewCmd.class, IntrinsicsCommand.class})
public final class DataCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    /** Options shared by both subcommands (they map onto the run config's data: keys). */
    static final class DataOptions {
        @Option(names = "--data", required = true, description = "Data folder holding the images and depth folders.")
        Path data;

        @Option(names = "--images-dir", defaultValue = "images", description = "Image sub-folder. Default: ${DEFAULT-VALUE}.")
        String imagesDir;

        @Option(names = "--depth-dir", defaultValue = "depth", description = "Depth sub-folder. Default: ${DEFAULT-VALUE}.")
        String depthDir;

        @Option(names = "--depth-scale", defaultValue = "1.0",
                description = "Multiplier for raw depth values (e.g. 0.001 with --depth-units m). Default: ${DEFAULT-VALUE}.")
        double depthScale;

        @Option(names = "--depth-units", defaultValue = "mm",
                description = "Units after --depth-scale: mm, cm or m. Default: ${DEFAULT-VALUE}.")
        String depthUnits;

        @Option(names = "--npz-key", description = "Array name inside .npz files (default: the only one, or xyz/points/depth/z).")
        String npzKey;

        @Option(names = "--strict", description = "Unpaired files are an error.")
        boolean strict;

        DataConfig config(List<Integer> size, Integer scale, Integer inputSize) {
            return new DataConfig(data.toString(), imagesDir, depthDir, null, size, scale, inputSize, null, null,
                    null, null, null, null, null, strict, depthUnits, depthScale, npzKey);
        }
    }

    @Command(name = "check", mixinStandardHelpOptions = true,
            description = {"Check every image/depth pair: sizes, Z range, %% missing, problems.",
                "Exit code 1 if any pair is unusable, 2 on a folder-level error."})
    static final class Check implements Callable<Integer> {
        @Mixin
        DataOptions opts;

        @Spec
        CommandSpec spec;

        @Override
        public Integer call() {
            var out = spec.commandLine().getOut();
            DataCheck.Report rep = DataCheck.run(opts.config(null, null, null));
            int stemW = Math.max(4, rep.rows().stream().mapToInt(r -> r.stem().length()).max().orElse(4));
            String fmt = "%-" + stemW + "s  %-11s  %-11s  %-19s  %8s  %s%n";
            out.printf(fmt, "stem", "image", "depth", "Z range (mm)", "missing", "problems");
            for (DataCheck.Row r : rep.rows()) {
                String range = Float.isNaN(r.zMin()) ? "-" : String.format("%.1f..%.1f", r.zMin(), r.zMax());
                String miss = Double.isNaN(r.missingPercent()) ? "-" : String.format("%.1f%%", r.missingPercent());
                out.printf(fmt, r.stem(), r.imageSize(), r.depthSize(), range, miss,
                        r.problems().isEmpty() ? "ok" : String.join("; ", r.problems()));
            }
            Pairing.Result pr = rep.pairing();
            out.printf("%n%d pair(s): %d usable, %d unusable; %d unpaired file(s)%s%n", rep.rows().size(),
                    rep.rows().size() - rep.unusable(), rep.unusable(), pr.unpaired().size(),
                    pr.duplicates().isEmpty() ? "" : "; duplicate stems: " + String.join(", ", pr.duplicates()));
            if (!pr.problems().isEmpty()) {
                spec.commandLine().getErr().println("warning: " + pr.problems());
            }
            return rep.unusable() > 0 ? 1 : 0;
        }
    }

    @Command(name = "preview", mixinStandardHelpOptions = true,
            description = {"Write per sample PNGs of the resized RGB, the filled Z and the measured mask;",
                "with --npy also <stem>_image.npy (3xhxw normalised), <stem>_z.npy, <stem>_mask.npy (hxw)",
                "and <stem>_zfull.npy (filled Z at the file's own resolution).",
                "A pair that cannot be read or written is left out and listed at the end; the others are written "
                    + "(exit 1; --fail-fast stops at it, exit 2)."})
    static final class PreviewCmd implements Callable<Integer> {
        @Mixin
        DataOptions opts;

        @Option(names = "--output", required = true, description = "Folder for the preview files (created).")
        Path output;

        @Option(names = "--npy", description = "Also write the arrays as .npy.")
        boolean npy;

        @Option(names = "--scale", description = "Width in 14-pixel patches (height from the aspect ratio).")
        Integer scale;

        @Option(names = "--size", split = ",", description = "Explicit H,W (multiples of 14).")
        List<Integer> size;

        @Option(names = "--input-size", description = "Official lower-bound rule (default 518 if no size option).")
        Integer inputSize;

        @Mixin
        MemoryCheckOption memory;

        @Mixin
        FailFastOption failFast;

        @Override
        public Integer call() {
            if (size != null && size.size() != 2) {
                throw new LoraException("--size: expected H,W, got " + size);
            }
            DataConfig dc = opts.config(size, scale, inputSize);
            List<Pair> pairs = Pairing.pair(dc).pairs();
            // the folders and files it reads; no two pairs write one file, and no file written is an input
            Map<Path, String> stems = new LinkedHashMap<>();
            pairs.forEach(p -> stems.put(p.image(), p.stem()));
            Map<Path, List<Path>> files = OutputNames.claim("data preview", output, List.copyOf(stems.keySet()),
                    image -> Preview.fileNames(stems.get(image), npy), "named by the pair's stem");
            OutputGuard.ofFolder("--output", output).input("--data " + dc.imagesDir() + "/", dc.rootPath().resolve(dc.imagesDir()))
                    .input("--data " + dc.depthDir() + "/", dc.rootPath().resolve(dc.depthDir()))
                    .inputs("--data", pairs.stream().flatMap(p -> Stream.of(p.image(), p.depth())).toList())
                    .outputFiles("--output", files.values().stream().flatMap(List::stream).toList()).check();
            // before anything is decoded: each image's prepared sample at the size its header gives
            MemoryCheck.require("data preview", dc.sizeRule(), pairs.stream().map(Pair::image).toList(),
                    MemoryCheck.preview(), memory.enabled());
            BatchFailures failures = failFast.failures(pairs.size());
            int n = Preview.write(dc, output, npy, failures);
            spec.commandLine().getOut().printf("wrote previews of %s sample(s) to %s%n",
                    n == pairs.size() ? Integer.toString(n) : n + " of " + pairs.size(), output);
            return failures.finish("data preview", pairs.size(), spec.commandLine().getErr());
        }

        @Spec
        CommandSpec spec;
    }
}
