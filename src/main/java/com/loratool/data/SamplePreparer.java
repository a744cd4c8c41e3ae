package com.loratool.data;

import com.loratool.LoraException;
import com.loratool.config.DataConfig;
import java.util.concurrent.atomic.AtomicLong;
import org.opencv.core.CvType;
import org.opencv.core.Mat;
import org.opencv.core.Size;
import org.opencv.imgproc.Imgproc;

/**
 * Decodes one pair and prepares it: read image (RGB, [0,1]) and Z (mm), check equal resolution,
 * fill holes at full resolution ({@link HoleFilling}), resize the image (configured
 * interpolation, default cubic) and Z (nearest or area) to the configured size, resize the
 * measured mask with nearest, normalise the image with ImageNet mean/std into CHW.
 *
 * <p>"Nearest" is OpenCV's {@code INTER_NEAREST_EXACT} (source pixel {@code floor((x + 0.5) * s)},
 * pixel-centre aligned like the cubic image resize); plain {@code INTER_NEAREST} uses
 * {@code floor(x * s)}, half an output pixel off the image.
 */
public final class SamplePreparer {
    private final DataConfig config;
    private final Preprocessing preprocessing;
    private final AtomicLong decodes = new AtomicLong();

    /** A prepared sample plus the full-resolution filled Z ({@code srcH x srcW}). */
    public record Prepared(Sample sample, float[] zFull, boolean[] maskFull, int srcH, int srcW) {}

    /** Smallest usable image side: one 14-pixel ViT patch (a 1x1 image holds no depth structure to learn). */
    public static final int MIN_SIDE = 14;

    /** Why an image of h x w is too small to use, or null. */
    public static String tooSmall(int h, int w) {
        return h < MIN_SIDE || w < MIN_SIDE ? "image is " + w + "x" + h + ", too small (at least " + MIN_SIDE + "x"
                + MIN_SIDE + ", one patch)" : null;
    }

    public SamplePreparer(DataConfig config) {
        this.config = config;
        this.preprocessing = Preprocessing.of(config);
        Cv.load();
    }

    /** How many pairs were decoded so far (the cache test counts these). */
    public long decodeCount() {
        return decodes.get();
    }

    public Sample prepare(Pair pair) {
        return prepareFull(pair).sample();
    }

    public Prepared prepareFull(Pair pair) {
        decodes.incrementAndGet();
        FullSample full = readFull(pair);
        Mat rgb = full.rgb();
        int h = full.h();
        int w = full.w();
        float[] z = full.z();
        boolean[] measured;
        try {
            measured = HoleFilling.fill(z, h, w);
        } catch (IllegalArgumentException e) {
            rgb.release();
            throw LoraException.file(pair.depth(), "no valid depth (all NaN, inf or <= 0)");
        }
        NetworkInput in = networkInput(rgb);
        rgb.release();
        int oh = in.h();
        int ow = in.w();
        float[] depth = resizeFloat(z, h, w, oh, ow,
                config.depthResize().equals("area") ? Imgproc.INTER_AREA : Imgproc.INTER_NEAREST_EXACT);
        boolean[] mask = resizeMask(measured, h, w, oh, ow);
        return new Prepared(new Sample(pair.stem(), in.chw(), depth, mask, oh, ow), z, measured, h, w);
    }

    /**
     * Reads one pair at full resolution: the image (RGB {@code CV_32FC3} in [0, 1], {@link ImageReader};
     * the caller releases it) and Z in mm ({@link DepthReader} with depth_scale / depth_units / npz_key),
     * NaN, inf or {@code <= 0} where nothing was measured; errors when the sizes differ.
     */
    public FullSample readFull(Pair pair) {
        Mat rgb = ImageReader.readRgb(pair.image());
        String small = tooSmall(rgb.rows(), rgb.cols());
        if (small != null) {
            rgb.release();
            throw LoraException.file(pair.image(), small);
        }
        DepthMap dm;
        try {
            dm = DepthReader.read(pair.depth(), config);
        } catch (RuntimeException e) {
            rgb.release();
            throw e;
        }
        int h = rgb.rows();
        int w = rgb.cols();
        if (dm.h() != h || dm.w() != w) {
            rgb.release();
            throw LoraException.file(pair.depth(), "depth is " + dm.w() + "x" + dm.h() + " but image "
                    + pair.image().getFileName() + " is " + w + "x" + h);
        }
        return new FullSample(pair, rgb, dm.z(), h, w);
    }

    /** The network input of an RGB [0, 1] image (as {@link ImageReader} gives): the run's {@link Preprocessing}. */
    public NetworkInput networkInput(Mat rgb) {
        return preprocessing.fromRgb(rgb);
    }

    public Preprocessing preprocessing() {
        return preprocessing;
    }

    static float[] resizeFloat(float[] src, int h, int w, int oh, int ow, int interp) {
        if (h == oh && w == ow) {
            return src.clone();
        }
        Mat m = Cv.mat(src, h, w, CvType.CV_32FC1);
        Mat r = new Mat();
        Imgproc.resize(m, r, new Size(ow, oh), 0, 0, interp);
        m.release();
        float[] out = Cv.floats(r);
        r.release();
        return out;
    }

    static boolean[] resizeMask(boolean[] src, int h, int w, int oh, int ow) {
        byte[] b = new byte[src.length];
        for (int i = 0; i < b.length; i++) {
            b[i] = (byte) (src[i] ? 1 : 0);
        }
        Mat m = new Mat(h, w, CvType.CV_8UC1);
        m.put(0, 0, b);
        Mat r = new Mat();
        Imgproc.resize(m, r, new Size(ow, oh), 0, 0, Imgproc.INTER_NEAREST_EXACT);
        byte[] rb = new byte[oh * ow];
        r.get(0, 0, rb);
        m.release();
        r.release();
        boolean[] out = new boolean[rb.length];
        for (int i = 0; i < rb.length; i++) {
            out[i] = rb[i] != 0;
        }
        return out;
    }
}
