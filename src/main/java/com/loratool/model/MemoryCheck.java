package com.loratool.model;

import com.loratool.config.SizeRule;
import com.loratool.config.Sizing;
import com.loratool.data.ImageHeader;
import com.loratool.io.MemoryBudget;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * The commands' memory check before anything large is allocated: {@link MemoryEstimate} at the
 * network size each image gets (from its header, not decoded), against {@link MemoryBudget}.
 * {@link #OVERRIDE} skips it.
 */
public final class MemoryCheck {
    /** The option every command that checks memory offers to skip the check. */
    public static final String OVERRIDE = "--no-memory-check";

    /** What a step costs at network size h x w for images of H x W. */
    public interface Cost {
        long bytes(long imageH, long imageW, Sizing.Size network);
    }

    private MemoryCheck() {}

    /** Inference of {@code batch} images at a time, each decoded and prepared. */
    public static Cost inference(ModelConfig c, int batch) {
        return (ih, iw, s) -> add(MemoryEstimate.inference(c, s.height(), s.width(), batch),
                mul(batch, MemoryEstimate.imagePreparation(ih, iw, s.height(), s.width())));
    }

    /**
     * One training step of {@code batch} images (the samples are prepared one at a time) that trains
     * {@code trainedValues} values: the adapters' and the fully trained modules' ({@code lora.train_modules}),
     * each with its gradients and Adam's moments.
     */
    public static Cost training(ModelConfig c, int batch, long trainedValues) {
        return (ih, iw, s) -> add(MemoryEstimate.training(c, s.height(), s.width(), batch, trainedValues),
                MemoryEstimate.imagePreparation(ih, iw, s.height(), s.width()));
    }

    /**
     * Previewing one sample: the image and its resize, the prepared sample (3 float32 channels,
     * float32 depth, mask) and the three 8-bit preview pictures (3 + 3 + 1 bytes a pixel).
     */
    public static Cost preview() {
        return (ih, iw, s) -> add(MemoryEstimate.imagePreparation(ih, iw, s.height(), s.width()),
                (long) Math.min(Long.MAX_VALUE, (3 * 4 + 4 + 1 + 7) * (double) s.height() * s.width()));
    }

    /**
     * Refuses {@code what} when the largest cost over {@code images} (their header sizes under
     * {@code rule}; the rule's smallest size for images whose header is not readable here) exceeds
     * the available memory. Nothing is decoded. {@code enabled=false}: no check.
     */
    public static void require(String what, SizeRule rule, List<Path> images, Cost cost, boolean enabled) {
        if (!enabled) {
            return;
        }
        Sizing.Size min = rule.smallest();
        long worst = cost.bytes(min.height(), min.width(), min);
        String worstWhat = what + " at " + min.width() + "x" + min.height();
        for (Path p : images) {
            Optional<int[]> hw = ImageHeader.size(p);
            if (hw.isEmpty() || hw.get()[0] <= 0 || hw.get()[1] <= 0) {
                continue;
            }
            Sizing.Size s = rule.size(hw.get()[0], hw.get()[1]);
            long b = cost.bytes(hw.get()[0], hw.get()[1], s);
            if (b > worst) {
                worst = b;
                worstWhat = what + " of " + p.getFileName() + " (" + hw.get()[1] + "x" + hw.get()[0] + ") at "
                        + s.width() + "x" + s.height();
            }
        }
        MemoryBudget.require(worstWhat, worst, OVERRIDE);
    }

    private static long add(long a, long b) {
        long s = a + b;
        return ((a ^ s) & (b ^ s)) < 0 ? Long.MAX_VALUE : s;
    }

    private static long mul(long a, long b) {
        long hi = Math.multiplyHigh(a, b);
        long lo = a * b;
        return (hi != 0 || lo < 0) ? Long.MAX_VALUE : lo;
    }
}
