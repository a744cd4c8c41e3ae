package com.loratool.cli;

import com.loratool.model.MemoryCheck;
import picocli.CommandLine.Option;

/** {@code --no-memory-check} for every command that checks memory before allocating ({@code @Mixin MemoryCheckOption memory;}). */
public final class MemoryCheckOption {
    @Option(names = MemoryCheck.OVERRIDE,
            description = "Skip the check that the work fits in the available memory (estimated from each image's header "
                    + "and the network size, or the export's sizes, before anything is decoded or allocated; "
                    + "docs/model.md).")
    boolean skip;

    /** Whether to check. */
    public boolean enabled() {
        return !skip;
    }
}
