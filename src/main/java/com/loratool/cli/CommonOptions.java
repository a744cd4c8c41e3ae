package com.loratool.cli;

import picocli.CommandLine.Option;

/** Options every compute command shares; mix in with {@code @Mixin CommonOptions common;}. */
public final class CommonOptions {
    public enum DeviceChoice { auto, cpu, gpu }

    @Option(names = "--device", defaultValue = "auto",
            description = "Where to compute: auto (GPU if DJL finds one), cpu or gpu. Default: ${DEFAULT-VALUE}.")
    public DeviceChoice device = DeviceChoice.auto;

    @Option(names = "--threads", defaultValue = "0",
            description = "CPU threads for PyTorch (0 = all cores). Default: ${DEFAULT-VALUE}.")
    public int threads;

    /** Read by {@link ErrorHandler} from the parse result; no global state. */
    @Option(names = {"-v", "--verbose"}, description = "Log more, and print stack traces on errors.")
    public boolean verbose;
}
