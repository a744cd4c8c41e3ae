package com.loratool.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.loratool.LoraException;
import com.loratool.config.DataConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PairingTest {
    @TempDir
    Path dir;

    @Test
    void stemsStripTheLongestSuffix() {
        List<String> s = DataConfig.DEFAULT_SUFFIXES;
        assertEquals("21-12-03-18-50-31", Pairing.stem("21-12-03-18-50-31_Zivid_acquisition_color.png", s));
        assertEquals("21-12-03-18-50-31", Pairing.stem("21-12-03-18-50-31_Zivid_acquisition_rawDepth.npy", s));
        assertEquals("a", Pairing.stem("a.png", s));
        assertEquals("a_depth", Pairing.stem("a_depth_depth.npy", List.of("_depth")));
        assertEquals("_color", Pairing.stem("_color.png", s)); // never strip to an empty stem
    }

    @Test
    void pairsCameraExportsAndPlainStemsAndReportsUnpaired() throws Exception {
        touch("images/t1_Zivid_acquisition_color.png", "depth/t1_Zivid_acquisition_rawDepth.npy",
                "images/plain.jpg", "depth/plain.npz", "images/lonely.png", "depth/orphan.npy",
                "images/notes.txt");
        DataConfig cfg = DataConfig.defaults(dir);
        Pairing.Result r = Pairing.pair(cfg);
        assertEquals(List.of("plain", "t1"), r.pairs().stream().map(Pair::stem).toList());
        assertEquals(dir.resolve("depth/t1_Zivid_acquisition_rawDepth.npy"), r.pairs().get(1).depth());
        assertEquals(2, r.unpaired().size());
        assertTrue(r.problems().contains("lonely.png") && r.problems().contains("orphan.npy"), r.problems());
        LoraException e = assertThrows(LoraException.class, () -> Pairing.pair(cfg.with("strict", true)));
        assertTrue(e.getMessage().contains("lonely.png"), e.getMessage());
    }

    @Test
    void emptyOrMissingFoldersAreClearErrors() throws Exception {
        Files.createDirectories(dir.resolve("images"));
        Files.createDirectories(dir.resolve("depth"));
        LoraException e = assertThrows(LoraException.class, () -> Pairing.pair(DataConfig.defaults(dir)));
        assertTrue(e.getMessage().startsWith(dir.resolve("images").toString()), e.getMessage());
        assertTrue(e.getMessage().contains("no images"), e.getMessage());
        LoraException e2 = assertThrows(LoraException.class,
                () -> Pairing.pair(DataConfig.defaults(dir.resolve("nope"))));
        assertTrue(e2.getMessage().contains("not found"), e2.getMessage());
    }

    private void touch(String... names) throws Exception {
        for (String n : names) {
            Path p = dir.resolve(n);
            Files.createDirectories(p.getParent());
            Files.writeString(p, "x");
        }
    }
}
