package com.loratool.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.loratool.LoraException;
import com.loratool.data.Sample;
import java.util.Arrays;
import java.util.List;
import java.util.function.Function;

/**
 * Samples stacked into arrays: images (B,3,H,W), depth (B,H,W), mask (B,H,W) (float 0/1), and
 * with {@code train.retain_weight} the frozen base's predictions (B,H,W) ({@code reference}, else null).
 */
public record Batch(int size, int height, int width, float[] images, float[] depth, float[] mask, float[] reference) {

    /** Stacks samples; {@code useFilled} counts every pixel with Z > 0, not only measured ones. */
    public static Batch of(List<Sample> samples, boolean useFilled) {
        return of(samples, useFilled, null);
    }

    /** As {@link #of(List, boolean)}, with each sample's reference prediction by stem ({@code references} null: none). */
    public static Batch of(List<Sample> samples, boolean useFilled, Function<String, float[]> references) {
        Sample first = samples.get(0);
        int h = first.h();
        int w = first.w();
        int hw = h * w;
        float[] img = new float[samples.size() * 3 * hw];
        float[] z = new float[samples.size() * hw];
        float[] m = new float[samples.size() * hw];
        float[] ref = references == null ? null : new float[samples.size() * hw];
        for (int i = 0; i < samples.size(); i++) {
            Sample s = samples.get(i);
            if (s.h() != h || s.w() != w) {
                throw new LoraException("data: samples of different sizes (" + first.stem() + " " + h + "x" + w + ", "
                        + s.stem() + " " + s.h() + "x" + s.w() + "); set data.size or data.scale");
            }
            System.arraycopy(s.image(), 0, img, i * 3 * hw, 3 * hw);
            System.arraycopy(s.depth(), 0, z, i * hw, hw);
            if (ref != null) {
                System.arraycopy(references.apply(s.stem()), 0, ref, i * hw, hw);
            }
            for (int j = 0; j < hw; j++) {
                float zj = s.depth()[j];
                boolean ok = zj > 0 && Float.isFinite(zj) && (useFilled || s.mask()[j]);
                m[i * hw + j] = ok ? 1f : 0f;
            }
        }
        return new Batch(samples.size(), h, w, img, z, m, ref);
    }

    public NDArray images(NDManager m) {
        return m.create(images, new Shape(size, 3, height, width));
    }

    public NDArray depth(NDManager m) {
        return m.create(depth, new Shape(size, height, width));
    }

    public NDArray mask(NDManager m) {
        return m.create(mask, new Shape(size, height, width));
    }

    /** Images {@code from} (inclusive) to {@code to} (exclusive) of this batch. */
    public Batch slice(int from, int to) {
        int hw = height * width;
        return new Batch(to - from, height, width, Arrays.copyOfRange(images, from * 3 * hw, to * 3 * hw),
                Arrays.copyOfRange(depth, from * hw, to * hw), Arrays.copyOfRange(mask, from * hw, to * hw),
                reference == null ? null : Arrays.copyOfRange(reference, from * hw, to * hw));
    }
}
