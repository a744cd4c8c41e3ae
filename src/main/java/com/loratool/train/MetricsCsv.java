package com.loratool.train;

import com.loratool.LoraException;
import com.loratool.io.AtomicFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** metrics.csv of a run: one row per epoch, rewritten atomically after each epoch. */
public final class MetricsCsv {
    public static final String HEADER = "epoch,train_loss,val_loss,val_abs_rel,val_delta1,val_rmse,lr,seconds";

    /**
     * One epoch's numbers; {@code valRmse} in mm. The validation metrics are aligned for a relative
     * run, absolute (no alignment) for a metric one (train/Validation).
     */
    public record Row(int epoch, double trainLoss, double valLoss, double valAbsRel, double valDelta1, double valRmse,
            double lr, double seconds) {
        String csv() {
            return String.format(Locale.ROOT, "%d,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,%.3f", epoch, trainLoss, valLoss,
                    valAbsRel, valDelta1, valRmse, lr, seconds);
        }
    }

    private final Path file;
    private final List<Row> rows = new ArrayList<>();

    public MetricsCsv(Path file) {
        this.file = file;
    }

    public List<Row> rows() {
        return rows;
    }

    public void add(Row r) {
        rows.add(r);
        StringBuilder sb = new StringBuilder(HEADER).append('\n');
        for (Row row : rows) {
            sb.append(row.csv()).append('\n');
        }
        AtomicFiles.writeString(file, sb.toString());
    }

    /** Reads the rows of an existing file up to and including {@code lastEpoch} (for --resume). */
    public void loadUpTo(int lastEpoch) {
        rows.clear();
        if (!Files.exists(file)) {
            return;
        }
        try {
            List<String> lines = Files.readAllLines(file);
            for (String line : lines.subList(Math.min(1, lines.size()), lines.size())) {
                String[] f = line.split(",");
                if (f.length != 7 && f.length != 8) {
                    continue;
                }
                int k = f.length - 7; // 7 columns: a file from before val_rmse
                Row r = new Row(Integer.parseInt(f[0]), Double.parseDouble(f[1]), Double.parseDouble(f[2]),
                        Double.parseDouble(f[3]), Double.parseDouble(f[4]), k == 1 ? Double.parseDouble(f[5]) : Double.NaN,
                        Double.parseDouble(f[5 + k]), Double.parseDouble(f[6 + k]));
                if (r.epoch() <= lastEpoch) {
                    rows.add(r);
                }
            }
        } catch (IOException | NumberFormatException e) {
            throw LoraException.file(file, "cannot read metrics for --resume: " + e.getMessage());
        }
    }
}
