package com.loratool.bench;

import com.loratool.io.InputFiles;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.loratool.LoraException;
import com.loratool.io.Json;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;

/**
 * PyTorch peer figures: the JSON lines printed by {@code scripts/reference/peer_train.py}
 * (one per run; blank lines and {@code #} comments skipped). A result matches a line with the
 * same arch, batch, height, width, images, rank and adapted layer kinds ({@code qkv,proj,mlp}
 * = {@code linear} = {@code qkv,linear}); the last matching line wins.
 */
public final class PeerBaseline {
    private record Line(String arch, int batch, int height, int width, int images, int rank,
                        Set<String> kinds, BenchResult.PeerFigures figures) { }

    private final List<Line> lines;

    private PeerBaseline(List<Line> lines) {
        this.lines = lines;
    }

    public static PeerBaseline read(Path file) {
        ObjectMapper json = Json.JSON;
        List<Line> lines = new ArrayList<>();
        List<String> text;
        InputFiles.regularFile(file);
        try {
            text = Files.readAllLines(file);
        } catch (IOException e) {
            throw LoraException.file(file, "cannot read: " + e.getMessage(), e);
        }
        for (int i = 0; i < text.size(); i++) {
            String t = text.get(i).trim();
            if (t.isEmpty() || t.startsWith("#")) {
                continue;
            }
            try {
                JsonNode n = json.readTree(t);
                String targets = req(n, "targets").asText();
                lines.add(new Line(n.path("arch").asText("vits"), req(n, "batch").asInt(), req(n, "height").asInt(),
                        req(n, "width").asInt(), req(n, "images").asInt(), n.path("rank").asInt(8),
                        BenchSettings.targetKinds(Arrays.asList(targets.split(","))),
                        new BenchResult.PeerFigures(n.path("peer").asText("pytorch"), req(n, "epoch_s").asDouble(),
                                n.path("train_images_per_s").asDouble(), n.path("infer_images_per_s").asDouble(),
                                n.path("trainable").asLong(), n.path("threads").asInt())));
            } catch (IOException | IllegalArgumentException e) {
                throw LoraException.file(file, "line " + (i + 1) + ": not a peer_train.py JSON line (" + e.getMessage() + ")");
            }
        }
        return new PeerBaseline(lines);
    }

    private static JsonNode req(JsonNode n, String key) {
        JsonNode v = n.get(key);
        if (v == null || v.isNull()) {
            throw new IllegalArgumentException("missing '" + key + "'");
        }
        return v;
    }

    /** The peer's figures for these settings, or null. */
    public BenchResult.PeerFigures match(BenchSettings s) {
        BenchResult.PeerFigures found = null;
        for (Line l : lines) {
            if (l.arch.equals(s.arch()) && l.batch == s.batch() && l.height == s.height() && l.width == s.width()
                    && l.images == s.images() && l.rank == s.rank() && l.kinds.equals(s.targetKinds())) {
                found = l.figures;
            }
        }
        return found;
    }

    public int size() {
        return lines.size();
    }
}
