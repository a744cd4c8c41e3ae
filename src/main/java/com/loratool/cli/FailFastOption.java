package com.loratool.cli;

import com.loratool.io.BatchFailures;
import picocli.CommandLine.Option;

/**
 * {@code --fail-fast} for every batch command ({@code @Mixin FailFastOption failFast;}): without it a bad input
 * file is recorded, the batch goes on and the failures are listed at the end with exit 1 ({@link BatchFailures},
 * docs/reliability.md).
 */
public final class FailFastOption {
    @Option(names = "--fail-fast",
            description = "Stop at the first input file that cannot be read or processed (one-line error, exit 2). "
                    + "Default: leave it out, go on with the others, list every failure (file and reason) at the end "
                    + "and exit 1.")
    boolean failFast;

    /** Whether {@code --fail-fast} was given. */
    public boolean enabled() {
        return failFast;
    }

    /** The failures of a batch of {@code inputs} files ({@link BatchFailures#of}: a single input fails fast). */
    public BatchFailures failures(int inputs) {
        return BatchFailures.of(failFast, inputs);
    }
}
