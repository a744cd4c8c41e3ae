package com.loratool.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.loratool.LoraException;
import com.loratool.config.DataConfig;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.opencv.core.CvType;
import org.opencv.core.Mat;
import org.opencv.core.MatOfInt;
import org.opencv.imgcodecs.Imgcodecs;

class ReadersTest {
    @TempDir
    Path dir;

    static final DataConfig MM = DataConfig.defaults(Path.of("unused"));

    @BeforeAll
    static void cv() {
        Cv.load();
    }

    @Test
    void xyzFloat32TakesChannel2() throws Exception {
        Path f = dir.resolve("a.npy");
        // 1x2x3: pixel 0 = (1, 2, 800), pixel 1 = (NaN, NaN, NaN)
        NpyBytes.write(f, "<f4", false, new long[] {1, 2, 3}, NpyBytes.f32(1, 2, 800, Float.NaN, Float.NaN, Float.NaN));
        DepthMap d = DepthReader.read(f, MM);
        assertEquals(1, d.h());
        assertEquals(2, d.w());
        assertEquals(800f, d.z()[0]);
        assertTrue(Float.isNaN(d.z()[1]));
    }

    @Test
    void fortranOrderXyz() throws Exception {
        // shape (2,2,3), value(i,j,k) = 100k + 10i + j + 1, stored column-major: index i + 2j + 4k
        float[] data = new float[12];
        for (int i = 0; i < 2; i++) {
            for (int j = 0; j < 2; j++) {
                for (int k = 0; k < 3; k++) {
                    data[i + 2 * j + 4 * k] = 100 * k + 10 * i + j + 1;
                }
            }
        }
        Path f = dir.resolve("f.npy");
        NpyBytes.write(f, "<f4", true, new long[] {2, 2, 3}, NpyBytes.f32(data));
        assertArrayEquals(new float[] {201, 202, 211, 212}, DepthReader.read(f, MM).z());
    }

    @Test
    void float16DepthMap() throws Exception {
        Path f = dir.resolve("h.npy");
        // float16 bits: 1000.0 = 0x63D0, 1.5 = 0x3E00, NaN = 0x7E00, 2.0 = 0x4000
        NpyBytes.write(f, "<f2", false, new long[] {2, 2}, NpyBytes.f16((short) 0x63D0, (short) 0x3E00, (short) 0x7E00, (short) 0x4000));
        float[] z = DepthReader.read(f, MM).z();
        assertEquals(1000f, z[0]);
        assertEquals(1.5f, z[1]);
        assertTrue(Float.isNaN(z[2]));
        assertEquals(2f, z[3]);
    }

    @Test
    void uint16NpyWithScaleAndUnits() throws Exception {
        Path f = dir.resolve("u.npy");
        NpyBytes.write(f, "<u2", false, new long[] {1, 2}, NpyBytes.f16((short) 1500, (short) 0));
        DataConfig cfg = new DataConfig("x", null, null, null, null, null, null, null, null, null, null, null,
                null, null, null, "m", 0.001, null);
        float[] z = DepthReader.read(f, cfg).z();
        assertEquals(1500f, z[0], 1e-3);
        assertEquals(0f, z[1]); // 0 = missing, counted by DepthMap.measured
    }

    @Test
    void npzPicksTheNamedArray() throws Exception {
        Path a = dir.resolve("xyz.npy");
        Path b = dir.resolve("other.npy");
        NpyBytes.write(a, "<f4", false, new long[] {1, 1, 3}, NpyBytes.f32(0, 0, 950));
        NpyBytes.write(b, "<f4", false, new long[] {1, 1}, NpyBytes.f32(5));
        Path npz = dir.resolve("d.npz");
        try (ZipOutputStream z = new ZipOutputStream(Files.newOutputStream(npz))) {
            for (Path p : new Path[] {a, b}) {
                z.putNextEntry(new ZipEntry(p.getFileName().toString()));
                z.write(Files.readAllBytes(p));
                z.closeEntry();
            }
        }
        assertEquals(950f, DepthReader.read(npz, MM).z()[0]); // default key "xyz"
        DataConfig other = new DataConfig("x", null, null, null, null, null, null, null, null, null, null, null,
                null, null, null, null, null, "other");
        assertEquals(5f, DepthReader.read(npz, other).z()[0]);
    }

    @Test
    void floatTiffOneAndThreeChannels() throws Exception {
        Mat one = new Mat(1, 2, CvType.CV_32FC1);
        one.put(0, 0, new float[] {700.5f, Float.NaN});
        Path t1 = dir.resolve("one.tiff");
        assertTrue(Imgcodecs.imwrite(t1.toString(), one));
        float[] z1 = DepthReader.read(t1, MM).z();
        assertEquals(700.5f, z1[0]);
        assertTrue(Float.isNaN(z1[1]));
        // OpenCV writes Mat channels (B,G,R) as file channels (R,G,B): Mat (Z,Y,X) is file XYZ
        Mat three = new Mat(1, 1, CvType.CV_32FC3);
        three.put(0, 0, new float[] {1234f, -5f, 6f});
        Path t3 = dir.resolve("three.tif");
        // uncompressed: OpenCV's default for 3-channel float TIFF is lossy LogLuv
        assertTrue(Imgcodecs.imwrite(t3.toString(), three,
                new MatOfInt(Imgcodecs.IMWRITE_TIFF_COMPRESSION, 1)));
        byte[] bytes = Files.readAllBytes(t3);
        int x = indexOf(bytes, NpyBytes.f32(6f));
        int y = indexOf(bytes, NpyBytes.f32(-5f));
        int zz = indexOf(bytes, NpyBytes.f32(1234f));
        assertTrue(x >= 0 && y == x + 4 && zz == x + 8, "file order must be X, Y, Z");
        assertEquals(1234f, DepthReader.read(t3, MM).z()[0]);
    }

    @Test
    void sixteenBitPngDepthWithScale() throws Exception {
        BufferedImage img = new BufferedImage(2, 1, BufferedImage.TYPE_USHORT_GRAY);
        img.getRaster().setSample(0, 0, 0, 4000);
        img.getRaster().setSample(1, 0, 0, 0);
        Path f = dir.resolve("d.png");
        ImageIO.write(img, "png", f.toFile());
        DataConfig cfg = new DataConfig("x", null, null, null, null, null, null, null, null, null, null, null,
                null, null, null, "mm", 0.25, null);
        float[] z = DepthReader.read(f, cfg).z();
        assertEquals(1000f, z[0]);
        assertEquals(0f, z[1]);
    }

    @Test
    void imageIsRgbInUnitRange() throws Exception {
        // Written by javax.imageio (not OpenCV): pixel RGB = (200, 100, 10)
        BufferedImage img = new BufferedImage(2, 1, BufferedImage.TYPE_INT_RGB);
        img.setRGB(0, 0, (200 << 16) | (100 << 8) | 10);
        Path f = dir.resolve("c.png");
        ImageIO.write(img, "png", f.toFile());
        Mat m = ImageReader.readRgb(f);
        float[] v = Cv.floats(m);
        assertEquals(200 / 255f, v[0], 1e-6);
        assertEquals(100 / 255f, v[1], 1e-6);
        assertEquals(10 / 255f, v[2], 1e-6);

        BufferedImage grey = new BufferedImage(1, 1, BufferedImage.TYPE_USHORT_GRAY);
        grey.getRaster().setSample(0, 0, 0, 65535);
        Path g = dir.resolve("g.png");
        ImageIO.write(grey, "png", g.toFile());
        float[] gv = Cv.floats(ImageReader.readRgb(g));
        assertArrayEquals(new float[] {1f, 1f, 1f}, gv, 1e-6f);
    }

    @Test
    void badFilesGiveOneLineErrorsNamingTheFile() throws Exception {
        Path png = dir.resolve("corrupt.png");
        Files.write(png, new byte[] {(byte) 0x89, 'P', 'N', 'G', 1, 2, 3});
        assertError(() -> ImageReader.readRgb(png), png, "cannot decode");

        Path trunc = dir.resolve("trunc.npy");
        byte[] full = NpyBytes.f32(1, 2, 3, 4, 5, 6);
        NpyBytes.write(trunc, "<f4", false, new long[] {1, 2, 3}, Arrays.copyOf(full, 10));
        assertError(() -> DepthReader.read(trunc, MM), trunc, "");

        Path u8 = dir.resolve("u8.npy");
        NpyBytes.write(u8, "|u1", false, new long[] {1, 2}, new byte[] {1, 2});
        assertError(() -> DepthReader.read(u8, MM), u8, "wrong dtype");

        Path shape = dir.resolve("shape.npy");
        NpyBytes.write(shape, "<f4", false, new long[] {2}, NpyBytes.f32(1, 2));
        assertError(() -> DepthReader.read(shape, MM), shape, "shape");

        BufferedImage eight = new BufferedImage(1, 1, BufferedImage.TYPE_BYTE_GRAY);
        Path e8 = dir.resolve("eight.png");
        ImageIO.write(eight, "png", e8.toFile());
        assertError(() -> DepthReader.read(e8, MM), e8, "wrong dtype");
    }

    static int indexOf(byte[] hay, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= hay.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (hay[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }

    static void assertError(org.junit.jupiter.api.function.Executable ex, Path file, String text) {
        LoraException e = assertThrows(LoraException.class, ex);
        String m = e.getMessage();
        assertTrue(m.startsWith(file.toString()), m);
        assertTrue(m.contains(text), m);
        assertTrue(!m.contains("\n"), m);
    }
}
