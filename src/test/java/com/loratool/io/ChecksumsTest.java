package com.loratool.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.loratool.LoraException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ChecksumsTest {
    @TempDir
    Path tmp;

    @Test
    void sha256OfKnownContent() throws Exception {
        Path p = tmp.resolve("abc.txt");
        Files.writeString(p, "abc");
        // FIPS 180-2 test vector for "abc"
        assertEquals("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", Checksums.sha256(p));
        Path e = tmp.resolve("empty");
        Files.write(e, new byte[0]);
        assertEquals("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", Checksums.sha256(e));
        assertThrows(LoraException.class, () -> Checksums.sha256(tmp.resolve("missing")));
    }
}
