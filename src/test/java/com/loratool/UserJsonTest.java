package com.loratool;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.loratool.data.CameraIntrinsics;
import com.loratool.io.HostTensor;
import com.loratool.lora.AdapterCheckpoint;
import com.loratool.lora.AdapterSet;
import com.loratool.lora.LoraPair;
import com.loratool.lora.LoraScaling;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 27, class 6: NaN (and Infinity) in a JSON file a user gives was JSON-parser jargon
 * ("Non-standard token 'NaN': enable `JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS`..."); it is one
 * plain line naming the file and the key. And the toolkit's own adapter_config.json is read with
 * the types it was written with: a string, null or fraction for a number is refused (alpha null
 * was the default 8, r 4.7 was 4), naming the file and the key.
 */
class UserJsonTest {
    @TempDir
    Path dir;

    @Test
    void nanInIntrinsicsNamesTheFileAndTheKey() throws Exception {
        Path f = dir.resolve("cam.json");
        Files.writeString(f, "{\"fx\": 500, \"fy\": NaN, \"cx\": 320, \"cy\": 240}");
        LoraException e = assertThrows(LoraException.class, () -> CameraIntrinsics.parseOrRead(f.toString()));
        assertEquals(f + ": fy: must be a finite number, got NaN", e.getMessage());
        Files.writeString(f, "{\"fx\": 500, \"fy\": 500, \"cx\": -Infinity, \"cy\": 240}");
        e = assertThrows(LoraException.class, () -> CameraIntrinsics.parseOrRead(f.toString()));
        assertEquals(f + ": cx: must be a finite number, got -Infinity", e.getMessage());
        Files.writeString(f, "{\"fx\": 500, \"fx\": 600, \"fy\": 500, \"cx\": 1, \"cy\": 1}");
        e = assertThrows(LoraException.class, () -> CameraIntrinsics.parseOrRead(f.toString()));
        assertEquals(f + ": not valid JSON: Duplicate field 'fx' (line 1)", e.getMessage());
    }

    /** A checkpoint of one qkv adapter (dim 6, r 2, alpha 4). */
    private Path checkpoint() throws Exception {
        LinkedHashMap<String, LoraPair> m = new LinkedHashMap<>();
        m.put("pretrained.blocks.0.attn.qkv", new LoraPair(new HostTensor(new long[] {2, 6}, new float[12]),
                new HostTensor(new long[] {18, 2}, new float[36])));
        Path ck = dir.resolve("ck");
        AdapterCheckpoint.save(ck, new AdapterSet(m), new LoraScaling(2, 4, false), dir.resolve("w.pth"),
                "0".repeat(64), null);
        return ck;
    }

    private String refused(Path ck, String from, String to) throws Exception {
        Path cfg = ck.resolve(AdapterCheckpoint.CONFIG);
        String text = Files.readString(cfg);
        String changed = text.replace(from, to);
        assertEquals(false, changed.equals(text), "no " + from + " in " + text);
        Files.writeString(cfg, changed);
        try {
            return assertThrows(LoraException.class, () -> AdapterCheckpoint.load(ck)).getMessage();
        } finally {
            Files.writeString(cfg, text);
        }
    }

    @Test
    void theOwnAdapterConfigIsReadWithItsTypes() throws Exception {
        Path ck = checkpoint();
        Path cfg = ck.resolve(AdapterCheckpoint.CONFIG);
        assertEquals(4.0, AdapterCheckpoint.load(ck).scaling().alpha());
        assertEquals(cfg + ": alpha: must be a finite number, got NaN", refused(ck, "\"alpha\" : 4.0", "\"alpha\" : NaN"));
        assertEquals(cfg + ": alpha: must be a number, got null", refused(ck, "\"alpha\" : 4.0", "\"alpha\" : null"));
        assertEquals(cfg + ": alpha: must be a number, got \"24\"", refused(ck, "\"alpha\" : 4.0", "\"alpha\" : \"24\""));
        assertEquals(cfg + ": r: must be an integer, got 2.7", refused(ck, "\"r\" : 2,", "\"r\" : 2.7,"));
        assertEquals(cfg + ": rslora: must be true or false, got \"yes\"",
                refused(ck, "\"rslora\" : false", "\"rslora\" : \"yes\""));
        assertEquals(cfg + ": head_convs: must be true or false, got 1",
                refused(ck, "\"head_convs\" : false", "\"head_convs\" : 1"));
        assertEquals(cfg + ": alpha: must be > 0 and at most 1000000, got -4", refused(ck, "\"alpha\" : 4.0", "\"alpha\" : -4"));
    }
}
