package com.loratool.sweep;

import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.ObjectReader;
import com.loratool.LoraException;
import com.loratool.eval.EvalResult;
import com.loratool.io.Json;
import com.loratool.io.AtomicFiles;
import com.loratool.metrics.DepthMetrics;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * One (combination, fold) cell of a sweep: trained on the other folds, evaluated on the held-out
 * one (LoRA and the frozen base on the same images) and, with {@code --retention}, on the
 * retention set. Written to {@code cells/<id>.json} when the cell is finished, so a rerun keeps it.
 * A failed cell (e.g. a NaN loss) records its reason and no metrics. {@code depthOutput}: the model
 * predicts depth (Depth Anything 3), so its relative metrics align depth to Z, not disparity to 1/Z
 * (false in the cells of older versions, which ran V2 only).
 */
public record CellResult(int combination, int fold, List<String> overrides, String status, String reason,
                         int images, boolean absolute, Metrics lora, Metrics base, Metrics retentionLora,
                         Metrics retentionBase, int epochs, double trainSeconds, double epochSeconds,
                         double evalSeconds, boolean depthOutput) {
    public static final String DONE = "done";
    public static final String FAILED = "failed";

    /** The three reported metrics of one evaluation (absolute ones for a metric model). */
    public record Metrics(double absRel, double delta1, double rmse) {
        static Metrics lora(EvalResult r) {
            return of(r.absolute() ? r.loraAbsolute() : r.lora());
        }

        static Metrics base(EvalResult r) {
            return of(r.absolute() ? r.originalAbsolute() : r.original());
        }

        static Metrics of(DepthMetrics m) {
            return new Metrics(m.absRel(), m.delta1(), m.rmse());
        }

        public double get(String name) {
            return switch (name) {
                case "abs_rel" -> absRel;
                case "delta1" -> delta1;
                case "rmse" -> rmse;
                default -> throw new IllegalArgumentException(name);
            };
        }
    }

    public boolean done() {
        return DONE.equals(status);
    }

    /**
     * A cell that versions before issue 27 recorded as failed because the sweep was interrupted: not a
     * result (an interrupt is never a cell's failure), so the rerun trains it.
     */
    public boolean interrupted() {
        return FAILED.equals(status) && reason != null && reason.startsWith("interrupted (SIG");
    }

    /** {@code c01-f2}: combination and fold counted from 1. */
    public static String id(int combination, int fold) {
        return String.format("c%02d-f%d", combination + 1, fold + 1);
    }

    /** Json.SNAKE, reading a NaN score (a diverged cell) written unquoted by older versions too. */
    private static final ObjectReader READER = Json.SNAKE.readerFor(CellResult.class)
            .with(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS);

    public void write(Path file) {
        try {
            AtomicFiles.writeString(file, Json.pretty(Json.SNAKE).writeValueAsString(this) + "\n");
        } catch (IOException e) {
            throw LoraException.file(file, "cannot write: " + e.getMessage(), e);
        }
    }

    public static CellResult read(Path file) {
        try {
            return READER.readValue(file.toFile());
        } catch (IOException e) {
            throw LoraException.file(file, "not a sweep cell result (" + e.getMessage().lines().findFirst().orElse("")
                    + "); delete it to run the cell again");
        }
    }
}
