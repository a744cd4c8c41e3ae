package com.loratool.data;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.loratool.LoraException;
import com.loratool.config.DataConfig;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A depth file whose shape wraps to no pixels is an error, never "depth is 0x0". */
class ZeroSizeDepthTest {
    @TempDir
    Path tmp;

    @Test
    void shapeThatWrapsToZeroPixelsIsAnError() throws Exception {
        // (2^32, 2^32): 2^64 values wrap to 0 in long arithmetic and (int) 2^32 is 0
        Path p = tmp.resolve("wrap.npy");
        NpyBytes.write(p, "<f4", false, new long[] {1L << 32, 1L << 32}, new byte[0]);
        LoraException e = assertThrows(LoraException.class,
                () -> DepthReader.read(p, DataConfig.defaults(tmp)));
        assertTrue(e.getMessage().startsWith(p + ": "), e.getMessage());
    }

    @Test
    void emptyDepthArrayIsAnError() throws Exception {
        Path p = tmp.resolve("empty.npy");
        NpyBytes.write(p, "<f4", false, new long[] {0, 5}, new byte[0]);
        LoraException e = assertThrows(LoraException.class,
                () -> DepthReader.read(p, DataConfig.defaults(tmp)));
        assertTrue(e.getMessage().startsWith(p + ": ") && e.getMessage().contains("empty"), e.getMessage());
    }
}
