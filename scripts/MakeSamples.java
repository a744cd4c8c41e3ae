/*
 * Renders data-samples/: a dozen colour + organised point-cloud pairs in the camera-export layout
 *   <out>/images/<ts>_Zivid_acquisition_color.png   (8-bit RGB)
 *   <out>/depth/<ts>_Zivid_acquisition_rawDepth.npy  (H x W x 3 float32 XYZ in mm, camera frame, NaN = missing)
 *
 * Scene: a tyre (torus lying flat) on a tiled, textured floor, seen by a pinhole camera tilted
 * down. Z per pixel comes from ray casting (floor plane + sphere-traced torus). Like a
 * structured-light camera, a point is measured only if the projector (offset sideways from the
 * camera) lights it: points in the projector's shadow or outside its frustum are NaN; a ragged
 * band along the left/right frame border is NaN; specular spots and patches on the shiny tread are
 * NaN. The colour image is shaded consistently with the geometry (Lambert + Blinn-Phong from a
 * point light, with cast shadows). Poses, distances and tyre sizes vary per sample. Seeded:
 * the same seed gives the same files.
 *
 * Run (after `mvn -q -DskipTests package`, which fills target/classes and target/lib):
 *   java -cp "target/classes:target/lib/*" scripts/MakeSamples.java data-samples [count] [seed]
 */

import com.loratool.io.AtomicFiles;
import com.loratool.io.Npy;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.opencv.core.CvType;
import org.opencv.core.Mat;
import org.opencv.core.MatOfByte;
import org.opencv.imgcodecs.Imgcodecs;

public class MakeSamples {
    static final int W = 176;
    static final int H = 108;

    public static void main(String[] args) throws Exception {
        Path out = Path.of(args.length > 0 ? args[0] : "data-samples");
        int count = args.length > 1 ? Integer.parseInt(args[1]) : 12;
        long seed = args.length > 2 ? Long.parseLong(args[2]) : 2021;
        nu.pattern.OpenCV.loadLocally();
        Files.createDirectories(out.resolve("images"));
        Files.createDirectories(out.resolve("depth"));
        Random rnd = new Random(seed);
        for (int i = 0; i < count; i++) {
            String ts = String.format("21-12-03-18-%02d-%02d", 50 + (i * 7) / 60, (i * 7) % 60);
            Scene s = new Scene(rnd);
            float[] xyz = new float[H * W * 3];
            byte[] bgr = new byte[H * W * 3];
            s.render(xyz, bgr, rnd);
            Npy.write(out.resolve("depth/" + ts + "_Zivid_acquisition_rawDepth.npy"), new long[] {H, W, 3}, xyz);
            Mat m = new Mat(H, W, CvType.CV_8UC3);
            m.put(0, 0, bgr);
            MatOfByte png = new MatOfByte();
            Imgcodecs.imencode(".png", m, png);
            AtomicFiles.writeBytes(out.resolve("images/" + ts + "_Zivid_acquisition_color.png"), png.toArray());
            System.out.printf("%s  camera h=%.0f tilt=%.0f°  tyre R=%.0f r=%.0f at (%.0f, %.0f)%n",
                    ts, s.camH, Math.toDegrees(s.tilt), s.bigR, s.smallR, s.tx, s.tz);
        }
    }

    static final class Scene {
        final double camH, tilt, focal, baseline, bigR, smallR, tx, tz;
        final double[] cam, right, down, fwd, proj, light;
        final long noiseSeed;
        final double grout, tile;

        Scene(Random r) {
            camH = 750 + 400 * r.nextDouble();
            tilt = Math.toRadians(38 + 22 * r.nextDouble());
            focal = 150 + 30 * r.nextDouble();
            baseline = 120 + 60 * r.nextDouble();
            bigR = 220 + 90 * r.nextDouble();
            smallR = 75 + 35 * r.nextDouble();
            double along = camH / Math.tan(tilt);
            tz = along * (0.85 + 0.3 * r.nextDouble());
            tx = (r.nextDouble() * 2 - 1) * 0.35 * along;
            cam = new double[] {0, camH, 0};
            right = new double[] {-1, 0, 0};
            fwd = new double[] {0, -Math.sin(tilt), Math.cos(tilt)};
            down = new double[] {0, -Math.cos(tilt), -Math.sin(tilt)};
            proj = add(cam, scale(right, baseline));
            light = new double[] {(r.nextDouble() * 2 - 1) * 900, camH + 600 + 500 * r.nextDouble(), along * r.nextDouble()};
            noiseSeed = r.nextLong();
            tile = 250 + 150 * r.nextDouble();
            grout = 0.55 + 0.2 * r.nextDouble();
        }

        double sdfTorus(double[] p) {
            double dx = p[0] - tx;
            double dz = p[2] - tz;
            double q = Math.sqrt(dx * dx + dz * dz) - bigR;
            double dy = p[1] - smallR;
            return Math.sqrt(q * q + dy * dy) - smallR;
        }

        double[] torusNormal(double[] p) {
            double dx = p[0] - tx;
            double dz = p[2] - tz;
            double l = Math.sqrt(dx * dx + dz * dz);
            double[] c = {tx + bigR * dx / l, smallR, tz + bigR * dz / l};
            return norm(sub(p, c));
        }

        /** Distance along unit ray to the torus, or +inf (before tMax). */
        double traceTorus(double[] o, double[] d, double tMax) {
            double t = 0;
            for (int i = 0; i < 400 && t < tMax; i++) {
                double s = sdfTorus(add(o, scale(d, t)));
                if (s < 0.005) {
                    return t;
                }
                t += s;
            }
            return Double.POSITIVE_INFINITY;
        }

        void render(float[] xyz, byte[] bgr, Random r) {
            double cx = (W - 1) / 2.0;
            double cy = (H - 1) / 2.0;
            int[] left = raggedBorder(r, 2, 9);
            int[] rightB = raggedBorder(r, 1, 6);
            for (int v = 0; v < H; v++) {
                for (int u = 0; u < W; u++) {
                    double[] dir = norm(add(add(scale(right, (u - cx) / focal), scale(down, (v - cy) / focal)), fwd));
                    double tFloor = dir[1] < 0 ? -cam[1] / dir[1] : Double.POSITIVE_INFINITY;
                    double tTyre = traceTorus(cam, dir, Math.min(tFloor, 20000));
                    boolean onTyre = tTyre < tFloor;
                    double t = onTyre ? tTyre : tFloor;
                    int i = v * W + u;
                    if (Double.isInfinite(t)) {
                        setNaN(xyz, i);
                        bgr[3 * i] = bgr[3 * i + 1] = bgr[3 * i + 2] = 0;
                        continue;
                    }
                    double[] p = add(cam, scale(dir, t));
                    double[] n = onTyre ? torusNormal(p) : new double[] {0, 1, 0};
                    // colour: albedo x (ambient + lambert * lit) + specular on the tyre
                    double albedo = onTyre ? tyreAlbedo(p) : floorAlbedo(p);
                    double[] toL = norm(sub(light, p));
                    double lit = visible(p, n, light) ? 1 : 0;
                    double lam = Math.max(0, dot(n, toL));
                    double spec = 0;
                    if (onTyre) {
                        double[] h = norm(add(toL, norm(sub(cam, p))));
                        spec = 0.35 * Math.pow(Math.max(0, dot(n, h)), 40) * lit;
                    }
                    double lum = albedo * (0.28 + 0.9 * lam * lit) + spec;
                    double[] tint = onTyre ? new double[] {1.0, 1.0, 1.05} : new double[] {0.95, 1.0, 1.08};
                    for (int c = 0; c < 3; c++) {
                        double g = Math.pow(Math.min(1, Math.max(0, lum * tint[c])), 1 / 2.2) * 255 + r.nextGaussian() * 1.5;
                        bgr[3 * i + (2 - c)] = (byte) Math.max(0, Math.min(255, Math.round(g)));
                    }
                    // measurement: projector must light the point, no border band, no specular / shiny patches
                    boolean measured = u >= left[v] && u < W - rightB[v] && visible(p, n, proj) && inProjector(p);
                    if (measured && onTyre) {
                        double[] h = norm(add(norm(sub(proj, p)), norm(sub(cam, p))));
                        double dxz = Math.hypot(p[0] - tx, p[2] - tz);
                        boolean tread = dxz > bigR + 0.55 * smallR;
                        if (dot(n, h) > 0.992 || (tread && noise(p[0] * 0.02, p[2] * 0.02, p[1] * 0.02) > 0.62)) {
                            measured = false;
                        }
                    }
                    if (!measured) {
                        setNaN(xyz, i);
                        continue;
                    }
                    double[] pc = sub(p, cam);
                    double zc = dot(pc, fwd) + r.nextGaussian() * 0.2;
                    xyz[3 * i] = (float) dot(pc, right);
                    xyz[3 * i + 1] = (float) dot(pc, down);
                    xyz[3 * i + 2] = (float) zc;
                }
            }
        }

        boolean visible(double[] p, double[] n, double[] src) {
            double[] o = add(p, scale(n, 0.5));
            double[] d = sub(src, o);
            double len = Math.sqrt(dot(d, d));
            d = scale(d, 1 / len);
            if (dot(n, d) <= 0) {
                return false;
            }
            return Double.isInfinite(traceTorus(o, d, len));
        }

        boolean inProjector(double[] p) {
            double[] q = sub(p, proj);
            double z = dot(q, fwd);
            double x = dot(q, right) / z * focal * 0.95 + (W - 1) / 2.0;
            double y = dot(q, down) / z * focal * 0.95 + (H - 1) / 2.0;
            return z > 0 && x >= 0 && x < W && y >= -2 && y < H + 2;
        }

        double floorAlbedo(double[] p) {
            double a = 0.45 + 0.18 * (noise(p[0] * 0.01, p[2] * 0.01, 0.5) - 0.5) + 0.1 * (noise(p[0] * 0.06, p[2] * 0.06, 3.1) - 0.5);
            double fx = Math.abs(p[0] / tile - Math.rint(p[0] / tile)) * tile;
            double fz = Math.abs(p[2] / tile - Math.rint(p[2] / tile)) * tile;
            return Math.min(fx, fz) < 6 ? a * grout : a;
        }

        double tyreAlbedo(double[] p) {
            double dx = p[0] - tx;
            double dz = p[2] - tz;
            double dxz = Math.hypot(dx, dz);
            double ang = Math.atan2(dz, dx);
            double a = 0.07;
            if (dxz > bigR + 0.55 * smallR && Math.sin(ang * 48) > 0.4) {
                a = 0.035; // tread grooves
            }
            if (p[1] > 1.7 * smallR && Math.abs(dxz - bigR) < 0.25 * smallR && Math.sin(ang * 9) > 0.7) {
                a = 0.14; // lettering band on the sidewall
            }
            if (dxz < bigR - 0.9 * smallR) {
                a = 0.22; // rim
            }
            return a;
        }

        int[] raggedBorder(Random r, int min, int max) {
            int[] b = new int[H];
            double x = min + (max - min) * r.nextDouble();
            for (int v = 0; v < H; v++) {
                x = Math.max(min, Math.min(max, x + r.nextGaussian() * 1.2));
                b[v] = (int) Math.round(x);
            }
            return b;
        }

        double noise(double x, double y, double z) {
            int x0 = (int) Math.floor(x);
            int y0 = (int) Math.floor(y);
            int z0 = (int) Math.floor(z);
            double fx = smooth(x - x0);
            double fy = smooth(y - y0);
            double fz = smooth(z - z0);
            double v = 0;
            for (int a = 0; a < 2; a++) {
                for (int b = 0; b < 2; b++) {
                    for (int c = 0; c < 2; c++) {
                        double w = (a == 1 ? fx : 1 - fx) * (b == 1 ? fy : 1 - fy) * (c == 1 ? fz : 1 - fz);
                        v += w * hash(x0 + a, y0 + b, z0 + c);
                    }
                }
            }
            return v;
        }

        double hash(int x, int y, int z) {
            long h = noiseSeed ^ (x * 0x9E3779B97F4A7C15L) ^ (y * 0xC2B2AE3D27D4EB4FL) ^ (z * 0x165667B19E3779F9L);
            h ^= h >>> 33;
            h *= 0xFF51AFD7ED558CCDL;
            h ^= h >>> 33;
            return (h >>> 11) * 0x1.0p-53;
        }
    }

    static double smooth(double t) {
        return t * t * (3 - 2 * t);
    }

    static void setNaN(float[] xyz, int i) {
        xyz[3 * i] = xyz[3 * i + 1] = xyz[3 * i + 2] = Float.NaN;
    }

    static double[] add(double[] a, double[] b) {
        return new double[] {a[0] + b[0], a[1] + b[1], a[2] + b[2]};
    }

    static double[] sub(double[] a, double[] b) {
        return new double[] {a[0] - b[0], a[1] - b[1], a[2] - b[2]};
    }

    static double[] scale(double[] a, double s) {
        return new double[] {a[0] * s, a[1] * s, a[2] * s};
    }

    static double dot(double[] a, double[] b) {
        return a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
    }

    static double[] norm(double[] a) {
        return scale(a, 1 / Math.sqrt(dot(a, a)));
    }
}
