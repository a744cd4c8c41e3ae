package com.loratool.deploy;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.loratool.LoraException;
import com.loratool.model.ModelConfig;
import org.junit.jupiter.api.Test;

/** The ONNX export's limits and memory estimate (issue 27, class 6), from the architecture alone: no weights built. */
class ExportMemoryTest {
    static final ModelConfig VITS = ModelConfig.preset("vits");
    static final ModelConfig VITL = ModelConfig.preset("vitl");
    /** Parameter counts of the official checkpoints (24.8 M, 335.3 M, 1.31 G). */
    static final long VITS_P = 24_785_089L;
    static final long VITL_P = 335_315_649L;
    static final long VITG_P = 1_313_372_353L;

    static String refusal(ModelConfig c, long p, OnnxOptions o) {
        return assertThrows(LoraException.class, () -> ExportMemory.requireRepresentable(c, p, o)).getMessage();
    }

    @Test
    void theDefaultExportIsOfTheOrderOfItsFileAndAttention() {
        OnnxOptions o = new OnnxOptions(518, 518, false, 17, false);
        assertDoesNotThrow(() -> ExportMemory.requireRepresentable(VITS, VITS_P, o));
        ExportMemory.Estimate e = ExportMemory.estimate(VITS, VITS_P, o, 139, 210);
        // by hand: file 4 * 24.8 M = 99 MB (+ 2 MB positions), ONNX Runtime's scores 2 * 6 heads * 1370^2 * 4 B = 90 MB,
        // the session (2 files) and the toolkit's model (4 P) beside it
        double file = 4.0 * VITS_P;
        double floor = 2 * file + 4.0 * VITS_P + 2.0 * 6 * 1370 * 1370 * 4;
        assertTrue(e.total() > floor && e.total() < 3 * floor, e + " vs " + floor);
        assertTrue(e.heapBytes() >= 2 * file && e.heapBytes() < 3 * file, e.toString());
        // dynamic checks two larger sizes, one at batch 2: more than the fixed export
        ExportMemory.Estimate d = ExportMemory.estimate(VITS, VITS_P, new OnnxOptions(518, 518, true, 17, false), 139, 210);
        assertTrue(d.nativeBytes() > e.nativeBytes() * 1.2, d + " vs " + e);
        assertTrue(d.peak().contains("ONNX Runtime's forward at 2x546x490"), d.peak());
    }

    @Test
    void theEstimateGrowsWithTheSquareOfTheTokensAndNeverOverflows() {
        long a = ExportMemory.estimate(VITS, VITS_P, new OnnxOptions(1036, 1036, true, 17, false), 139, 210).total();
        long b = ExportMemory.estimate(VITS, VITS_P, new OnnxOptions(2072, 2072, true, 17, false), 139, 210).total();
        assertTrue(b > 10.0 * a, a + " -> " + b); // 4x the tokens: ~16x the N x N scores
        ExportMemory.Estimate huge = ExportMemory.estimate(VITL, VITL_P,
                new OnnxOptions(2147483646, 2147483646, false, 17, false), 139, 210);
        assertTrue(huge.total() > 0 && huge.heapBytes() > 0, huge.toString());
    }

    @Test
    void limitsNoMachinePassesNameTheOptionAndTheWayOut() {
        // a fixed 19600 x 19600 vitl: 1400^2 x 1024 float position embeddings = 8 GB, over protobuf's 2 GB
        String e = refusal(VITL, VITL_P, new OnnxOptions(19600, 19600, false, 17, false));
        assertTrue(e.startsWith("--input-size 19600: too large to export: the file would be about 9.4 GB")
                && e.contains("use --dynamic"), e);
        assertDoesNotThrow(() -> ExportMemory.requireRepresentable(VITL, VITL_P, new OnnxOptions(14000, 14000, true, 17, false)));
        // vits at a fixed 16800 (docs/eval.md): 4 x 24.8 M + (1 + 1200^2) x 384 x 4 B
        e = refusal(VITS, VITS_P, new OnnxOptions(16800, 16800, false, 17, false));
        assertTrue(e.startsWith("--input-size 16800: too large to export: the file would be about 2.3 GB (the fixed-size "
                + "position embeddings 2.2 GB), over the 2.1 GB (2 GiB)"), e);
        // the row pass of the position embeddings (57143 x 37 x 1024 values) is more than one array holds
        e = refusal(VITL, VITL_P, new OnnxOptions(800002, 14, false, 17, false));
        assertTrue(e.startsWith("--input-size 800002x14: too large to export at a fixed size: the position embeddings"), e);
        // the parity check's input: 3 x 28000^2 values
        e = refusal(VITS, VITS_P, new OnnxOptions(28000, 28000, true, 17, false));
        assertTrue(e.startsWith("--input-size 28000: too large to export: the parity check's 1x3x28000x28000 input"), e);
        // giant's weights alone are 5.3 GB in fp32 and 2.6 GB in fp16
        e = refusal(ModelConfig.preset("vitg"), VITG_P, new OnnxOptions(518, 518, false, 17, false));
        assertTrue(e.startsWith("--format onnx: the weights alone would make a file of about 5.3 GB") && e.endsWith("--fp16 halves it"), e);
        e = refusal(ModelConfig.preset("vitg"), VITG_P, new OnnxOptions(518, 518, false, 17, true));
        assertTrue(e.contains("about 2.6 GB") && !e.contains("--fp16"), e);
    }
}
