package com.loratool.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.loratool.LoraException;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

class SizingTest {
    @Test
    void scaleTenOnZividResolutionGives140x84() {
        Sizing.Size s = Sizing.fromScale(1200, 1944, 10);
        assertEquals(140, s.width());
        assertEquals(84, s.height());
        // the data-samples resolution gives the same
        assertEquals(new Sizing.Size(84, 140), Sizing.fromScale(108, 176, 10));
    }

    @Test
    void lowerBoundMatchesOfficialResize() {
        // Values printed by depth_anything_v2.util.transform.Resize(width=s, height=s,
        // keep_aspect_ratio=True, ensure_multiple_of=14, resize_method='lower_bound').get_size(w, h)
        // in /work/da2 (returns (width, height)).
        int[][] cases = { // h, w, input_size, expected h, expected w
            {1200, 1944, 518, 518, 840}, {108, 176, 518, 518, 840}, {480, 640, 518, 518, 686},
            {1080, 1920, 518, 518, 924}, {1200, 1944, 140, 140, 224}, {500, 500, 518, 518, 518},
            {37, 1000, 518, 518, 14000}, {1944, 1200, 266, 434, 266}};
        for (int[] c : cases) {
            assertEquals(new Sizing.Size(c[3], c[4]), Sizing.lowerBound(c[0], c[1], c[2]),
                    "h=" + c[0] + " w=" + c[1] + " input_size=" + c[2]);
        }
    }

    @Test
    void explicitSizeMustBeMultipleOf14() {
        assertEquals(new Sizing.Size(84, 140), Sizing.explicit(84, 140));
        LoraException e = assertThrows(LoraException.class, () -> Sizing.explicit(85, 140));
        assertTrue(e.getMessage().contains("multiples of 14"), e.getMessage());
        assertThrows(LoraException.class, () -> DataConfig.defaults(Path.of("x")).with("size", List.of(84, 141)));
    }

    @Test
    void configPicksTheRule() {
        DataConfig d = DataConfig.defaults(Path.of("x"));
        assertEquals(new Sizing.Size(518, 840), d.sizeRule().size(1200, 1944)); // default input_size 518
        assertEquals(new Sizing.Size(84, 140), d.with("scale", 10).sizeRule().size(1200, 1944));
        assertEquals(new Sizing.Size(28, 42), d.with("size", List.of(28, 42)).sizeRule().size(1200, 1944));
    }
}
