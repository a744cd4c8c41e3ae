package com.loratool.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ProfileSummaryTest {
    @TempDir
    Path dir;

    private static String ev(String name, double ts, double dur) {
        return "{\"name\": \"" + name + "\", \"ph\": \"X\", \"ts\": " + ts + ", \"dur\": " + dur + ", \"tid\": 1, \"pid\": \"CPU Functions\"}";
    }

    @Test
    void selfTimesSubtractNestedChildren() throws Exception {
        // forward: linear 0..100 holding addmm 10..80 (holding empty 10..15); gelu 100..120
        // backward: evaluate_function 200..260 holding mm 210..250
        // self: linear 30, addmm 65, empty 5, gelu 20, evaluate 20, mm 40 (hand-computed)
        String trace = "[" + String.join(",\n", List.of(
                ev("aten::empty", 10, 5), ev("aten::addmm", 10, 70), ev("aten::linear", 0, 100), ev("aten::gelu", 100, 20),
                ev("aten::mm", 210, 40), ev("autograd::engine::evaluate_function: MmBackward0", 200, 60))) + "]";
        Path f = dir.resolve("trace.json");
        Files.writeString(f, trace);
        ProfileSummary s = ProfileSummary.read(f);
        assertEquals(180.0, s.totalUs(), 1e-9);
        assertEquals(60.0, s.backwardUs(), 1e-9);
        Map<String, ProfileSummary.Op> ops = new HashMap<>();
        s.ops().forEach(o -> ops.put(o.name(), o));
        assertEquals(30.0, ops.get("aten::linear").selfUs(), 1e-9);
        assertEquals(65.0, ops.get("aten::addmm").selfUs(), 1e-9);
        assertEquals(5.0, ops.get("aten::empty").selfUs(), 1e-9);
        assertEquals(40.0, ops.get("aten::mm").selfUs(), 1e-9);
        assertEquals(40.0, ops.get("aten::mm").backwardUs(), 1e-9);
        assertEquals(0.0, ops.get("aten::addmm").backwardUs(), 1e-9);
        assertEquals("aten::addmm", s.ops().get(0).name());
        // matmul = addmm + mm + linear = 135
        assertEquals(135.0, s.groups().get("matmul"), 1e-9);
        String md = s.markdown("step", 3);
        assertTrue(md.contains("| matmul | 0.1 | 75.0 |"), md);
    }

    @Test
    void groups() {
        assertEquals("convolution", ProfileSummary.group("aten::mkldnn_convolution"));
        assertEquals("convolution", ProfileSummary.group("aten::convolution_backward"));
        assertEquals("interpolation", ProfileSummary.group("aten::upsample_bilinear2d"));
        assertEquals("softmax", ProfileSummary.group("aten::_softmax_backward_data"));
        assertEquals("copies", ProfileSummary.group("aten::copy_"));
    }
}
