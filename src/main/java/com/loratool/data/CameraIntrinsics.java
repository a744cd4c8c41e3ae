package com.loratool.data;

import com.fasterxml.jackson.databind.JsonNode;
import com.loratool.LoraException;
import com.loratool.io.Json;
import com.loratool.io.Printable;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * Pinhole intrinsics in pixels: {@code u = fx X / Z + cx}, {@code v = fy Y / Z + cy}, where
 * {@code u} is the column and {@code v} the row, both 0-based with integer values at pixel
 * centres (the OpenCV convention; camera exports such as Zivid's organised clouds follow it).
 * {@code width} x {@code height} is the pixel grid they apply to (0 x 0 when unknown).
 *
 * <p>The one rule for intrinsics that are numbers but no camera's ({@link #problem}): fx, fy
 * finite and positive, cx, cy finite; and on a known grid W x H, a field of view
 * {@code 2 atan(W / (2 fx))} (and {@code 2 atan(H / (2 fy))}) strictly between
 * {@value #MIN_FOV_DEGREES}° and {@value #MAX_FOV_DEGREES}°, and a principal point at most one
 * image size outside the image ({@code -W - 0.5 <= cx <= 2W - 0.5}; the image spans
 * {@code -0.5 .. W - 0.5}), the same for cy with H. Every construction on a known grid is checked
 * (a fit, a JSON file with its size, a resize); intrinsics given without a grid are checked when
 * they meet an image ({@link #onGrid}). Resizing keeps the field of view and the principal point's
 * place, so intrinsics that pass on one grid pass on every grid.
 */
public record CameraIntrinsics(double fx, double fy, double cx, double cy, int width, int height) {
    /** The field of view, on each axis, lies strictly between these (degrees). */
    public static final double MIN_FOV_DEGREES = 1;
    public static final double MAX_FOV_DEGREES = 179;

    public CameraIntrinsics {
        String p = problem(fx, fy, cx, cy, width, height);
        if (p != null) {
            throw new IllegalArgumentException(p);
        }
    }

    /**
     * What makes these numbers no camera's intrinsics on a {@code w x h} grid (0 x 0: unknown,
     * only the values themselves are checked), naming the value; null when they are plausible.
     */
    public static String problem(double fx, double fy, double cx, double cy, int w, int h) {
        String[] names = {"fx", "fy", "cx", "cy"};
        double[] v = {fx, fy, cx, cy};
        for (int i = 0; i < 4; i++) {
            if (!Double.isFinite(v[i]) || i < 2 && !(v[i] > 0)) {
                return names[i] + " " + num(v[i]) + ": must be a finite number" + (i < 2 ? " > 0" : "");
            }
        }
        if (w == 0 && h == 0) {
            return null;
        }
        if (w <= 0 || h <= 0) {
            return "image size " + w + "x" + h + ": width and height must both be positive (or both 0, unknown)";
        }
        String bad = fov("fx", fx, w, "horizontal");
        bad = bad != null ? bad : fov("fy", fy, h, "vertical");
        bad = bad != null ? bad : centre("cx", cx, w, "width");
        return bad != null ? bad : centre("cy", cy, h, "height");
    }

    private static String fov(String name, double f, int size, String axis) {
        double deg = Math.toDegrees(2 * Math.atan(size / (2 * f)));
        if (deg > MIN_FOV_DEGREES && deg < MAX_FOV_DEGREES) {
            return null;
        }
        return name + " " + num(f) + " gives a " + axis + " field of view of " + num(deg) + "° on " + size
                + " pixels, outside (" + num(MIN_FOV_DEGREES) + "°, " + num(MAX_FOV_DEGREES) + "°): no camera's "
                + "intrinsics (docs/geometry.md)";
    }

    private static String centre(String name, double c, int size, String what) {
        if (c >= -size - 0.5 && c <= 2.0 * size - 0.5) {
            return null;
        }
        return name + " " + num(c) + " lies more than one image " + what + " (" + size + ") outside the image "
                + "(allowed " + num(-size - 0.5) + " .. " + num(2.0 * size - 0.5) + "): no camera's intrinsics "
                + "(docs/geometry.md)";
    }

    /**
     * These intrinsics on a {@code w x h} image ({@link #resizedTo}), refused in one line
     * {@code "<where> (WxH): <problem>"} when they are no camera's there; {@code where} names the
     * source and the image (e.g. {@code "--intrinsics 1e-300,1,2,3 on a.png"}).
     */
    public CameraIntrinsics onGrid(int w, int h, String where) {
        try {
            return resizedTo(w, h);
        } catch (IllegalArgumentException e) {
            throw new LoraException(where + " (" + w + "x" + h + "): " + e.getMessage());
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
            if (n.has("width") != n.has("height")) {
                throw LoraException.file(file, "give both 'width' and 'height' (the grid the intrinsics apply to) or "
                        + "neither");
            }
            int w = n.has("width") ? gridSize(file, n, "width") : 0;
            int h = n.has("height") ? gridSize(file, n, "height") : 0;
            return new CameraIntrinsics(n.get("fx").asDouble(), n.get("fy").asDouble(), n.get("cx").asDouble(),
                    n.get("cy").asDouble(), w, h);
        } catch (IllegalArgumentException e) {
            throw LoraException.file(file, e.getMessage());
        }
    }

    /** A JSON file's {@code width} or {@code height}: a whole number of pixels, at least 1. */
    private static int gridSize(Path file, JsonNode n, String key) {
        JsonNode v = n.get(key);
        if (!v.isIntegralNumber() || !v.canConvertToInt() || v.asInt() < 1) {
            throw LoraException.file(file, "'" + key + "' " + Printable.of(v.toString())
                    + ": must be a whole number of pixels, at least 1");
        }
        return v.asInt();
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
        } catch (NumberFormatException e) {
            throw new LoraException("--intrinsics " + text + ": expected four numbers fx,fy,cx,cy with fx, fy > 0");
        }
        try {
            return new CameraIntrinsics(v[0], v[1], v[2], v[3], 0, 0);
        } catch (IllegalArgumentException e) {
            throw new LoraException("--intrinsics " + text + ": " + e.getMessage());
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
        return "fx " + num(fx) + ", fy " + num(fy) + ", cx " + num(cx) + ", cy " + num(cy);
    }

    /** A value as a message shows it: 6 significant digits, no trailing zeros (1e-300, 319.5, 1e+06). */
    static String num(double v) {
        if (!Double.isFinite(v)) {
            return String.valueOf(v);
        }
        String s = String.format(Locale.ROOT, "%.6g", v);
        int e = s.indexOf('e');
        String mant = e < 0 ? s : s.substring(0, e);
        if (mant.contains(".")) {
            mant = mant.replaceAll("0+$", "").replaceAll("\\.$", "");
        }
        return mant + (e < 0 ? "" : s.substring(e));
    }
}
