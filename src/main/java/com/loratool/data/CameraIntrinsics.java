package com.loratool.data;

import com.fasterxml.jackson.databind.JsonNode;
import com.loratool.LoraException;
import com.loratool.io.Json;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * Pinhole intrinsics in pixels: {@code u = fx X / Z + cx}, {@code v = fy Y / Z + cy}, where
 * {@code u} is the column and {@code v} the row, both 0-based with integer values at pixel
 * centres (the OpenCV convention; camera exports such as Zivid's organised clouds follow it).
 * {@code width} x {@code height} is the pixel grid they apply to (0 x 0 when unknown).
 */
public record CameraIntrinsics(double fx, double fy, double cx, double cy, int width, int height) {

    public CameraIntrinsics {
        if (!(fx > 0) || !(fy > 0) || !Double.isFinite(fx) || !Double.isFinite(fy)
                || !Double.isFinite(cx) || !Double.isFinite(cy)) {
            throw new IllegalArgumentException("intrinsics need finite fx, fy > 0 and finite cx, cy, got "
                    + describe(fx, fy, cx, cy));
        }
    }

    /** The JSON fields ({@code fx fy cx cy width height}), in that order. */
    public Map<String, Object> toJson() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("fx", fx);
        m.put("fy", fy);
        m.put("cx", cx);
        m.put("cy", cy);
        m.put("width", width);
        m.put("height", height);
        return m;
    }

    /**
     * {@code fx,fy,cx,cy} (pixels, grid size unknown), or a JSON file with {@code fx fy cx cy}
     * and optionally {@code width height} (as {@code lora data intrinsics --json} writes).
     */
    public static CameraIntrinsics parseOrRead(String text) {
        if (!text.toLowerCase(Locale.ROOT).endsWith(".json")) {
            return parse(text);
        }
        Path file = Path.of(text);
        try {
            JsonNode n = Json.readFinite(file); // NaN or Infinity: one line naming the key
            for (String key : new String[] {"fx", "fy", "cx", "cy"}) {
                if (n == null || !n.path(key).isNumber()) {
                    throw LoraException.file(file, "intrinsics need a number '" + key + "'");
                }
            }
            return new CameraIntrinsics(n.get("fx").asDouble(), n.get("fy").asDouble(), n.get("cx").asDouble(),
                    n.get("cy").asDouble(), n.path("width").asInt(0), n.path("height").asInt(0));
        } catch (IllegalArgumentException e) {
            throw LoraException.file(file, e.getMessage());
        }
    }

    /** Parses {@code fx,fy,cx,cy} (pixels, grid size unknown). */
    public static CameraIntrinsics parse(String text) {
        String[] parts = text.split(",");
        if (parts.length != 4) {
            throw new LoraException("--intrinsics " + text + ": expected fx,fy,cx,cy");
        }
        double[] v = new double[4];
        try {
            for (int i = 0; i < 4; i++) {
                v[i] = Double.parseDouble(parts[i].trim());
            }
            return new CameraIntrinsics(v[0], v[1], v[2], v[3], 0, 0);
        } catch (IllegalArgumentException e) {
            throw new LoraException("--intrinsics " + text + ": expected four numbers fx,fy,cx,cy with fx, fy > 0");
        }
    }

    /**
     * The same camera on a {@code w x h} grid covering the same field of view (a resized image):
     * focal lengths scale with the size, centres with the pixel-centre convention
     * {@code c' = (c + 0.5) * w' / w - 0.5}. Unchanged when the grid is unknown or the same.
     */
    public CameraIntrinsics resizedTo(int w, int h) {
        if (width == 0 || height == 0 || (w == width && h == height)) {
            return new CameraIntrinsics(fx, fy, cx, cy, w, h);
        }
        double sx = (double) w / width;
        double sy = (double) h / height;
        return new CameraIntrinsics(fx * sx, fy * sy, (cx + 0.5) * sx - 0.5, (cy + 0.5) * sy - 0.5, w, h);
    }

    @Override
    public String toString() {
        return describe(fx, fy, cx, cy) + (width > 0 ? String.format(Locale.ROOT, " (%dx%d)", width, height) : "");
    }

    private static String describe(double fx, double fy, double cx, double cy) {
        return String.format(Locale.ROOT, "fx %.4f, fy %.4f, cx %.4f, cy %.4f", fx, fy, cx, cy);
    }
}
