package com.loratool.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.loratool.LoraException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The one reader of split.json (eval's --split and --resume's check): an entry's stem, else the
 * stem of its image file name, also when the entry is that name alone.
 */
class SplitStemsTest {
    @TempDir
    Path dir;

    @Test
    void stemImageAndBareNameEntriesGiveStems() throws Exception {
        Path f = Files.writeString(dir.resolve("split.json"), """
                {"train": [{"stem": "a", "image": "images/whatever.png"},
                           {"image": "images/b_color.png"},
                           "images/c_color.png"],
                 "val": []}
                """);
        assertEquals(Set.of("a", "b", "c"), Split.stems(f, "train", List.of("_color")));
        assertTrue(Split.stems(f, "val", List.of("_color")).isEmpty());
    }

    @Test
    void aMissingSideNamesTheFile() throws Exception {
        Path f = Files.writeString(dir.resolve("split.json"), "{\"train\": []}");
        LoraException e = assertThrows(LoraException.class, () -> Split.stems(f, "val", List.of()));
        assertEquals(f + ": has no 'val' list", e.getMessage());
    }
}
