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
    public static final String HEADER = "epoch,train_loss,val_loss,val_abs_rel,val_delta1,lr,seconds";

    /** One epoch's numbers. */
    public record Row(int epoch, double trainLoss, double valLoss, double valAbsRel, double valDelta1, double lr,
            double seconds) {
        String csv() {
            return String.format(Locale.ROOT, "%d,%.6g,%.6g,%.6g,%.6g,%.6g,%.3f", epoch, trainLoss, valLoss, valAbsRel,
                    valDelta1, lr, seconds);
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
                if (f.length != 7) {
                    continue;
                }
                Row r = new Row(Integer.parseInt(f[0]), Double.parseDouble(f[1]), Double.parseDouble(f[2]),
                        Double.parseDouble(f[3]), Double.parseDouble(f[4]), Double.parseDouble(f[5]),
                        Double.parseDouble(f[6]));
                if (r.epoch() <= lastEpoch) {
                    rows.add(r);
                }
            }
        } catch (IOException | NumberFormatException e) {
            throw LoraException.file(file, "cannot read metrics for --resume: " + e.getMessage());
        }
    }
}
