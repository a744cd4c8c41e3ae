package com.loratool.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.loratool.LoraException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PeerBaselineTest {
    @TempDir
    Path dir;

    // lines in the format peer_train.py prints (values typed by hand)
    private static final String QKV = "{\"peer\": \"pytorch-1.13.0\", \"arch\": \"vits\", \"targets\": \"qkv\", \"rank\": 8, \"batch\": 4, "
            + "\"height\": 84, \"width\": 140, \"images\": 11, \"epoch_s\": 12.0, \"train_images_per_s\": 0.917, "
            + "\"infer_images_per_s\": 3.0, \"trainable\": 147456, \"threads\": 2}";
    private static final String ALL = QKV.replace("\"qkv\"", "\"qkv,proj,mlp\"").replace("12.0", "20.0");

    @Test
    void matchesSameSettingsAndTargetSpellings() throws Exception {
        Path f = dir.resolve("peer.jsonl");
        Files.writeString(f, "# comment\n" + QKV + "\n\n" + ALL + "\n");
        PeerBaseline b = PeerBaseline.read(f);
        assertEquals(2, b.size());
        BenchSettings base = BenchGrid.studyBaseline();
        assertEquals(12.0, b.match(base).epochSeconds());
        assertEquals(20.0, b.match(BenchGrid.with(base, "targets", "qkv,linear")).epochSeconds());
        assertNull(b.match(BenchGrid.with(base, "batch", "8")));
        assertNull(b.match(BenchGrid.with(base, "scale", "12")));
    }

    @Test
    void badLinesNameFileAndLine() throws Exception {
        Path f = dir.resolve("bad.jsonl");
        Files.writeString(f, QKV + "\n{\"arch\": \"vits\"}\n");
        LoraException e = assertThrows(LoraException.class, () -> PeerBaseline.read(f));
        assertTrue(e.getMessage().startsWith(f + ": line 2: "), e.getMessage());
        assertThrows(LoraException.class, () -> PeerBaseline.read(dir.resolve("missing.jsonl")));
    }
}
