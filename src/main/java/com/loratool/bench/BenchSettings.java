package com.loratool.bench;

import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * One combination of a benchmark grid: what is trained and at which shape.
 *
 * @param arch    encoder preset (vits, vitb, ...) or "config" when the architecture comes from a file
 * @param batch   training batch size
 * @param height  input height in pixels (multiple of 14)
 * @param width   input width in pixels (multiple of 14)
 * @param scale   the study's "scale" that gave this size (width = 14 * scale), or 0 if given as a size
 * @param images  training images per epoch
 * @param targets LoRA targets as written in the grid/config (qkv, linear, attention, re:..., ...)
 * @param rank    LoRA rank r
 */
public record BenchSettings(String arch, int batch, int height, int width, int scale, int images,
                            List<String> targets, int rank) {

    public BenchSettings {
        targets = List.copyOf(targets);
    }

    /** Image size as the study wrote it: {@code 84x140} (height x width). */
    public String size() {
        return height + "x" + width;
    }

    /** Targets as one string: {@code qkv,linear}. */
    public String targetsLabel() {
        return String.join(",", targets);
    }

    /** Steps (batches) per epoch: the last batch may be short. */
    public int stepsPerEpoch() {
        return (images + batch - 1) / batch;
    }

    /**
     * The encoder layer kinds these targets adapt ({@code qkv, proj, fc1, fc2}), to match
     * settings written differently ({@code qkv,linear} = {@code qkv,proj,mlp} = {@code linear});
     * regex targets stay as written.
     */
    public Set<String> targetKinds() {
        return targetKinds(targets);
    }

    public static Set<String> targetKinds(List<String> targets) {
        Set<String> kinds = new TreeSet<>();
        for (String t : targets) {
            switch (t.trim()) {
                case "attention" -> kinds.addAll(List.of("proj", "qkv"));
                case "mlp" -> kinds.addAll(List.of("fc1", "fc2"));
                case "linear" -> kinds.addAll(List.of("fc1", "fc2", "proj", "qkv"));
                default -> kinds.add(t.trim());
            }
        }
        return kinds;
    }

    /** The study's scale to a size: width = 14 * scale, height = 14 * round(0.6 * scale) (10 -> 84x140). */
    public static int[] sizeOfScale(int scale) {
        return new int[] {14 * (int) Math.round(0.6 * scale), 14 * scale};
    }
}
