package com.loratool.train.optim;

/**
 * Learning rate per optimiser step (0-based): linear warm-up from lr/warmup to lr over
 * {@code warmup} steps, then constant, or cosine from lr down to minLr at the last step.
 */
public record LrSchedule(double lr, String kind, int warmup, long totalSteps, double minLr) {
    public double at(long step) {
        if (step < warmup) {
            return lr * (step + 1) / warmup;
        }
        if (!"cosine".equals(kind)) {
            return lr;
        }
        long span = Math.max(1, totalSteps - warmup - 1);
        double progress = Math.min(1.0, (double) (step - warmup) / span);
        return minLr + (lr - minLr) * 0.5 * (1 + Math.cos(Math.PI * progress));
    }
}
