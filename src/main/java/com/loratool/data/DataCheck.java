package com.loratool.data;

import com.loratool.LoraException;
import com.loratool.config.DataConfig;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.opencv.core.Mat;

/**
 * Inspects every pair of a data folder without stopping at the first problem: image and depth
 * sizes, Z range and share of missing pixels, and every problem found (unreadable files,
 * resolution mismatch, no valid depth). Used by {@code lora data check}.
 */
public final class DataCheck {
    private DataCheck() {}

    /** One pair's findings; {@code usable} is false when training could not use it. */
    public record Row(String stem, Path image, Path depth, String imageSize, String depthSize,
                      float zMin, float zMax, double missingPercent, List<String> problems, boolean usable) {}

    /** The rows plus the pairing's unpaired/duplicate files. */
    public record Report(List<Row> rows, Pairing.Result pairing) {
        public long unusable() {
            return rows.stream().filter(r -> !r.usable()).count();
        }
    }

    public static Report run(DataConfig config) {
        Pairing.Result pr = Pairing.pair(config);
        List<Row> rows = new ArrayList<>();
        for (Pair p : pr.pairs()) {
            rows.add(check(p, config));
        }
        return new Report(rows, pr);
    }

    static Row check(Pair p, DataConfig config) {
        List<String> problems = new ArrayList<>();
        String imgSize = "-";
        String depSize = "-";
        int ih = -1;
        int iw = -1;
        try {
            Mat m = ImageReader.readRgb(p.image());
            ih = m.rows();
            iw = m.cols();
            imgSize = iw + "x" + ih;
            m.release();
            String small = SamplePreparer.tooSmall(ih, iw);
            if (small != null) {
                problems.add(p.image() + ": " + small);
            }
        } catch (LoraException e) {
            problems.add(e.getMessage());
        }
        float zMin = Float.NaN;
        float zMax = Float.NaN;
        double missing = Double.NaN;
        boolean usable = problems.isEmpty();
        try {
            DepthMap d = DepthReader.read(p.depth(), config);
            depSize = d.w() + "x" + d.h();
            int valid = 0;
            float lo = Float.POSITIVE_INFINITY;
            float hi = Float.NEGATIVE_INFINITY;
            for (float v : d.z()) {
                if (DepthMap.measured(v)) {
                    valid++;
                    lo = Math.min(lo, v);
                    hi = Math.max(hi, v);
                }
            }
            missing = 100.0 * (d.z().length - valid) / d.z().length;
            if (valid == 0) {
                problems.add(p.depth() + ": no valid depth (all NaN, inf or <= 0)");
                usable = false;
            } else {
                zMin = lo;
                zMax = hi;
            }
            if (ih >= 0 && (d.h() != ih || d.w() != iw)) {
                problems.add(p.depth() + ": depth is " + depSize + " but image " + p.image().getFileName()
                        + " is " + imgSize);
                usable = false;
            }
        } catch (LoraException e) {
            problems.add(e.getMessage());
            usable = false;
        }
        return new Row(p.stem(), p.image(), p.depth(), imgSize, depSize, zMin, zMax, missing,
                List.copyOf(problems), usable);
    }
}
