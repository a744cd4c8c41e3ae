package com.loratool.config;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.loratool.LoraException;
import java.nio.file.Path;
import java.util.List;

/**
 * The {@code data:} section of a run config (snake_case YAML keys). Every field has a documented
 * default; a missing or null key takes it; the compact constructor is the one place the section is
 * checked. Bind with Jackson, or build with {@link #defaults(Path)} and change copies with
 * {@link Section#with} ({@code d.with("scale", 10)}, {@code d.with("augment.hflip", true)}).
 *
 * @param root data folder holding {@code images_dir} and {@code depth_dir}. No default (required).
 * @param imagesDir sub-folder of colour images. Default {@code images}.
 * @param depthDir sub-folder of depth / point-cloud files. Default {@code depth}.
 * @param stripSuffixes suffixes removed from file stems before pairing (longest match first).
 *     Default: {@code _Zivid_acquisition_color, _Zivid_acquisition_rawDepth, _color, _rgb, _image,
 *     _rawDepth, _depth, _xyz}.
 * @param size explicit network size {@code [H, W]}, both multiples of 14. Default unset.
 * @param scale width in patches: width {@code 14*scale}, height from the aspect ratio (multiple of
 *     14). Default unset.
 * @param inputSize official keep-aspect lower-bound rule (shorter side at least this, multiples of
 *     14). Default 518 when neither {@code size} nor {@code scale} is given. Set at most one of the three.
 * @param imageInterpolation image resize: {@code nearest|linear|cubic|area|lanczos}. Default {@code cubic}.
 * @param depthResize depth resize after hole filling: {@code nearest|area}. Default {@code nearest}.
 * @param valFraction fraction of pairs held out for validation (at least one pair when there are
 *     two or more and the fraction is above 0). Default 0.2.
 * @param maxTrainImages keep at most this many training pairs (0 = all). Default 0.
 * @param seed seed of the split (and of augmentation). Default 0.
 * @param augment augmentation, off by default (see {@link Augment}).
 * @param cache sample cache (see {@link Cache}).
 * @param strict unpaired files are an error instead of a warning. Default false.
 * @param depthUnits units of the depth values after {@code depth_scale}: {@code mm|cm|m}. Samples
 *     hold Z in mm. Default {@code mm}.
 * @param depthScale multiplier applied to raw depth values, giving {@code depth_units} (e.g. a
 *     16-bit PNG storing 0.1 mm steps: {@code depth_scale: 0.1}, {@code depth_units: mm}; or
 *     {@code depth_scale: 0.001, depth_units: m} for millimetre integers). Default 1.0.
 * @param npzKey array name inside a {@code .npz}. Default: the only array, else one of
 *     {@code xyz, points, depth, z}.
 */
public record DataConfig(
        @JsonProperty("root") String root,
        @JsonProperty("images_dir") String imagesDir,
        @JsonProperty("depth_dir") String depthDir,
        @JsonProperty("strip_suffixes") List<String> stripSuffixes,
        @JsonProperty("size") List<Integer> size,
        @JsonProperty("scale") Integer scale,
        @JsonProperty("input_size") Integer inputSize,
        @JsonProperty("image_interpolation") String imageInterpolation,
        @JsonProperty("depth_resize") String depthResize,
        @JsonProperty("val_fraction") Double valFraction,
        @JsonProperty("max_train_images") Integer maxTrainImages,
        @JsonProperty("seed") Long seed,
        @JsonProperty("augment") Augment augment,
        @JsonProperty("cache") Cache cache,
        @JsonProperty("strict") Boolean strict,
        @JsonProperty("depth_units") String depthUnits,
        @JsonProperty("depth_scale") Double depthScale,
        @JsonProperty("npz_key") String npzKey) implements Section<DataConfig> {

    /** Names of {@code image_interpolation}; data.Interpolation maps them to OpenCV's modes. */
    public static final List<String> IMAGE_INTERPOLATIONS = List.of("nearest", "linear", "cubic", "area", "lanczos");

    /**
     * Largest {@code scale} (and {@code input_size}, {@code size} in patches of 14): 1.4 million
     * pixels a side, far beyond any real image and within int arithmetic; the memory estimate of each
     * command refuses far smaller sizes first.
     */
    public static final int MAX_PATCHES = 100_000;

    public static final List<String> DEFAULT_SUFFIXES = List.of(
            "_Zivid_acquisition_color", "_Zivid_acquisition_rawDepth", "_color", "_rgb", "_image",
            "_rawDepth", "_depth", "_xyz");

    /**
     * Augmentation (training pairs only; off by default).
     *
     * @param hflip mirror left-right with probability 0.5. Default false.
     * @param rotateDegrees rotate by a uniform angle in [-d, d] degrees (image cubic, depth and
     *     mask nearest; pixels rotated in from outside are unmeasured). Default 0 (off).
     * @param colorJitter brightness/contrast/saturation jitter strength in [0, 1) on the image
     *     only. Default 0 (off).
     * @param cropScale random resized crop: the crop's area is a uniform fraction in
     *     [crop_scale, 1] of the sample, resized back to the sample's size (the size rule's multiple
     *     of 14). Default 1 (off).
     * @param cropRatio [lo, hi]: the crop's aspect is the sample's times a log-uniform factor in
     *     [lo, hi] (within [0.5, 2]). Default [1, 1] (aspect kept).
     * @param cropInterpolation the image's resampling for the crop: cubic or area (depth and
     *     mask always nearest). Default cubic.
     */
    public record Augment(
            @JsonProperty("hflip") Boolean hflip,
            @JsonProperty("rotate_degrees") Double rotateDegrees,
            @JsonProperty("color_jitter") Double colorJitter,
            @JsonProperty("crop_scale") Double cropScale,
            @JsonProperty("crop_ratio") List<Double> cropRatio,
            @JsonProperty("crop_interpolation") CropInterpolation cropInterpolation) implements Section<Augment> {

        /** The image's resampling for the random resized crop. */
        public enum CropInterpolation { cubic, area }

        public Augment {
            hflip = hflip != null && hflip;
            rotateDegrees = Check.in("data.augment.rotate_degrees", rotateDegrees == null ? 0.0 : rotateDegrees, 0, 45);
            colorJitter = Check.fraction("data.augment.color_jitter", colorJitter == null ? 0.0 : colorJitter);
            cropScale = cropScale == null ? 1.0 : cropScale;
            Check.that(cropScale > 0 && cropScale <= 1, "data.augment.crop_scale", "must be in (0, 1] (1 = off)", cropScale);
            cropRatio = Check.list(cropRatio, List.of(1.0, 1.0));
            List<Double> ratio = cropRatio;
            Check.that(ratio.size() == 2 && ratio.get(0) != null && ratio.get(1) != null
                    && ratio.get(0) >= 0.5 && ratio.get(0) <= ratio.get(1) && ratio.get(1) <= 2,
                    "data.augment.crop_ratio", "must be [lo, hi] with 0.5 <= lo <= hi <= 2", cropRatio);
            cropInterpolation = cropInterpolation == null ? CropInterpolation.cubic : cropInterpolation;
        }

        /** Flip, rotation and jitter; no crop. */
        public Augment(Boolean hflip, Double rotateDegrees, Double colorJitter) {
            this(hflip, rotateDegrees, colorJitter, null, null, null);
        }

        public static Augment off() {
            return new Augment(false, 0.0, 0.0);
        }

        /** Whether the random resized crop is on (a crop smaller than the sample, or another aspect). */
        public boolean crops() {
            return cropScale < 1 || cropRatio.get(0) != 1.0 || cropRatio.get(1) != 1.0;
        }

        public boolean enabled() {
            return hflip || rotateDegrees > 0 || colorJitter > 0 || crops();
        }
    }

    /**
     * Sample cache.
     *
     * @param memory keep prepared samples in memory, so later epochs decode nothing. Default true.
     * @param diskDir optional folder for an on-disk cache keyed by file size, mtime and the
     *     preprocessing settings. Default unset (no disk cache).
     */
    public record Cache(@JsonProperty("memory") Boolean memory, @JsonProperty("disk_dir") String diskDir)
            implements Section<Cache> {
        public Cache {
            memory = memory == null || memory;
        }

        public static Cache memoryOnly() {
            return new Cache(true, null);
        }
    }

    public DataConfig {
        imagesDir = imagesDir == null ? "images" : imagesDir;
        depthDir = depthDir == null ? "depth" : depthDir;
        stripSuffixes = stripSuffixes == null ? DEFAULT_SUFFIXES : List.copyOf(stripSuffixes);
        int given = (size != null ? 1 : 0) + (scale != null ? 1 : 0) + (inputSize != null ? 1 : 0);
        if (given > 1) {
            throw new ConfigError("data", "set only one of size, scale and input_size");
        }
        if (size != null && size.size() != 2) {
            throw new ConfigError("data.size", "expected [H, W], got " + size);
        }
        if (size != null) {
            Check.that(size.stream().allMatch(v -> v != null && v <= Sizing.MULTIPLE * MAX_PATCHES), "data.size",
                    "must be two numbers of at most " + Sizing.MULTIPLE * MAX_PATCHES, size);
            Sizing.explicit(size.get(0), size.get(1));
            size = List.copyOf(size);
        }
        if (scale != null) {
            Check.in("data.scale", scale, 1, MAX_PATCHES);
        }
        if (given == 0) {
            inputSize = SizeRule.DEFAULT_INPUT_SIZE;
        }
        if (inputSize != null) {
            Check.in("data.input_size", inputSize, Sizing.MULTIPLE, Sizing.MULTIPLE * MAX_PATCHES); // at least one patch
        }
        imageInterpolation = imageInterpolation == null ? "cubic" : imageInterpolation.toLowerCase();
        if (!IMAGE_INTERPOLATIONS.contains(imageInterpolation)) {
            throw new ConfigError("data.image_interpolation", "expected nearest, linear, cubic, area or lanczos, got "
                    + imageInterpolation);
        }
        depthResize = depthResize == null ? "nearest" : depthResize.toLowerCase();
        if (!depthResize.equals("nearest") && !depthResize.equals("area")) {
            throw new ConfigError("data.depth_resize", "expected nearest or area, got " + depthResize);
        }
        valFraction = Check.fraction("data.val_fraction", valFraction == null ? 0.2 : valFraction);
        maxTrainImages = Check.in("data.max_train_images", maxTrainImages == null ? 0 : maxTrainImages, 0,
                Integer.MAX_VALUE);
        seed = seed == null ? 0L : seed;
        augment = augment == null ? Augment.off() : augment;
        cache = cache == null ? Cache.memoryOnly() : cache;
        strict = strict != null && strict;
        depthUnits = depthUnits == null ? "mm" : depthUnits.toLowerCase();
        unitsToMm(depthUnits);
        depthScale = Check.positive("data.depth_scale", depthScale == null ? 1.0 : depthScale, 1e9);
    }

    /** All defaults for a data folder. */
    public static DataConfig defaults(Path root) {
        return new DataConfig(root.toString(), null, null, null, null, null, null, null, null, null,
                null, null, null, null, null, null, null, null);
    }

    /** The size rule is one of size, scale and input_size: setting one (by {@link #with}) unsets the others. */
    @Override
    public List<String> clearedBy(String key) {
        return SIZE_KEYS.contains(key) ? SIZE_KEYS.stream().filter(k -> !k.equals(key)).toList() : List.of();
    }

    /** The three mutually exclusive keys of the size rule. */
    public static final List<String> SIZE_KEYS = List.of("size", "scale", "input_size");

    /** The network-size rule this section sets ({@code size}, {@code scale} or {@code input_size}). */
    public SizeRule sizeRule() {
        return rule(size, scale, inputSize);
    }

    private static SizeRule rule(List<Integer> size, Integer scale, Integer inputSize) {
        if (size != null) {
            return new SizeRule.Explicit(size.get(0), size.get(1));
        }
        if (scale != null) {
            return new SizeRule.Scale(scale);
        }
        return SizeRule.lowerBound(inputSize);
    }

    /** Millimetres per raw depth value: {@code depth_scale * units}. */
    public double rawToMm() {
        return depthScale * unitsToMm(depthUnits);
    }

    static double unitsToMm(String units) {
        return switch (units) {
            case "mm" -> 1.0;
            case "cm" -> 10.0;
            case "m" -> 1000.0;
            default -> throw new ConfigError("data.depth_units", "expected mm, cm or m, got " + units);
        };
    }

    /** The settings that change a prepared sample (the cache key); split/augment/cache excluded. */
    public String preprocessingKey() {
        return "size=" + size + ";scale=" + scale + ";input_size=" + inputSize + ";interp=" + imageInterpolation
                + ";depth_resize=" + depthResize + ";units=" + depthUnits + ";depth_scale=" + depthScale
                + ";npz_key=" + npzKey + ";v=1";
    }

    public Path rootPath() {
        if (root == null || root.isBlank()) {
            throw new LoraException("data.root: not set (the folder with " + imagesDir + "/ and " + depthDir + "/)");
        }
        return Path.of(root);
    }
}
