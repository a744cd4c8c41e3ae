package com.loratool.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.loratool.io.Checksums;
import com.loratool.io.HostTensor;
import com.loratool.lora.AdapterCheckpoint;
import com.loratool.lora.AdapterSet;
import com.loratool.lora.LoraPair;
import com.loratool.lora.LoraScaling;
import com.loratool.lora.export.AdaptedWeights;
import com.loratool.model.weights.PthReader;
import com.loratool.model.weights.StateDicts;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** export / import on the tiny fixture's weights with a hand-made checkpoint (qkv, proj, a head conv). */
class ExportImportCommandTest {
    static final Path FIXTURE = Path.of(System.getProperty("fixtures.dir", "fixtures"), "da2-tiny");
    static final Path WEIGHTS = FIXTURE.resolve("weights.pth");

    static HostTensor rand(Random r, long... shape) {
        float[] v = new float[(int) HostTensor.numel(shape)];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (0.05 * r.nextGaussian());
        }
        return new HostTensor(shape, v);
    }

    /** A checkpoint folder on the tiny model (dim 48): r 4, alpha 8. */
    static Path checkpoint(Path dir, Path weights, String sha) {
        Random r = new Random(5);
        LinkedHashMap<String, LoraPair> m = new LinkedHashMap<>();
        m.put("pretrained.blocks.0.attn.qkv", new LoraPair(rand(r, 4, 48), rand(r, 144, 4)));
        m.put("pretrained.blocks.2.attn.proj", new LoraPair(rand(r, 4, 48), rand(r, 48, 4)));
        m.put("depth_head.scratch.refinenet1.resConfUnit1.conv1",
                new LoraPair(rand(r, 4, 16, 3, 3), rand(r, 16, 4, 1, 1)));
        Path ck = dir.resolve("best");
        AdapterCheckpoint.save(ck, new AdapterSet(m), new LoraScaling(4, 8, false), weights, sha, null);
        return ck;
    }

    static int run(StringWriter err, String... args) {
        CommandLine cl = Main.commandLine();
        cl.setErr(new PrintWriter(err, true));
        return cl.execute(args);
    }

    @Test
    void mergedPthRoundTripsThroughTheReader(@TempDir Path dir) {
        Path ck = checkpoint(dir, WEIGHTS, Checksums.sha256(WEIGHTS));
        Path out = dir.resolve("merged.pth");
        StringWriter err = new StringWriter();
        assertEquals(0, run(err, "export", "--checkpoint", ck.toString(), "--format", "merged", "--output", out.toString()), err.toString());
        AdapterCheckpoint c = AdapterCheckpoint.load(ck);
        Map<String, HostTensor> want = AdaptedWeights.merged(StateDicts.read(WEIGHTS), c, 1.0);
        Map<String, HostTensor> got = PthReader.read(out);
        assertEquals(want.keySet(), got.keySet());
        for (String k : want.keySet()) {
            assertArrayEquals(want.get(k).shape(), got.get(k).shape(), k);
            assertArrayEquals(want.get(k).data(), got.get(k).data(), k);
        }
        // the merge changed the adapted weights by scaling * B A, and nothing else
        Map<String, HostTensor> base = StateDicts.read(WEIGHTS);
        HostTensor d = c.adapters().layers().get("pretrained.blocks.0.attn.qkv").delta(2.0);
        assertEquals(base.get("pretrained.blocks.0.attn.qkv.weight").data()[7] + d.data()[7],
                got.get("pretrained.blocks.0.attn.qkv.weight").data()[7], 1e-6);
        assertArrayEquals(base.get("pretrained.blocks.0.attn.qkv.bias").data(), got.get("pretrained.blocks.0.attn.qkv.bias").data());
        Path st = dir.resolve("merged.safetensors");
        assertEquals(0, run(err, "export", "--checkpoint", ck.toString(), "--format", "merged", "--output", st.toString()));
        assertArrayEquals(want.get("pretrained.blocks.2.attn.proj.weight").data(),
                StateDicts.read(st).get("pretrained.blocks.2.attn.proj.weight").data());
    }

    @Test
    void peftExportThenImportGivesTheSameUpdates(@TempDir Path dir) throws Exception {
        Path ck = checkpoint(dir, WEIGHTS, Checksums.sha256(WEIGHTS));
        Path peft = dir.resolve("peft");
        StringWriter err = new StringWriter();
        assertEquals(0, run(err, "export", "--checkpoint", ck.toString(), "--format", "peft", "--output", peft.toString()), err.toString());
        assertTrue(Files.readString(peft.resolve("adapter_config.json")).contains("attention.attention.query"));
        Path back = dir.resolve("imported");
        assertEquals(0, run(err, "import", "--peft", peft.toString(), "--weights", WEIGHTS.toString(),
                "--output", back.toString()), err.toString());
        AdapterCheckpoint a = AdapterCheckpoint.load(ck);
        AdapterCheckpoint b = AdapterCheckpoint.load(back);
        assertEquals(12, b.r());
        assertEquals(a.scaling().value(), b.scaling().value(), 1e-12);
        Map<String, HostTensor> base = StateDicts.read(WEIGHTS);
        Map<String, HostTensor> ma = AdaptedWeights.merged(base, a, 1);
        Map<String, HostTensor> mb = AdaptedWeights.merged(AdaptedWeights.base(b, null), b, 1);
        for (String k : ma.keySet()) {
            assertArrayEquals(ma.get(k).data(), mb.get(k).data(), 1e-6f, k);
        }
    }

    @Test
    void missingOrDifferentBaseWeightsAreRefused(@TempDir Path dir) throws Exception {
        Path copy = dir.resolve("w.pth");
        Files.copy(WEIGHTS, copy);
        Path ck = checkpoint(dir, copy, Checksums.sha256(copy));
        Files.write(copy, new byte[] {1, 2, 3}, StandardOpenOption.APPEND);
        StringWriter err = new StringWriter();
        assertEquals(2, run(err, "export", "--checkpoint", ck.toString(), "--format", "merged", "--output",
                dir.resolve("m.pth").toString()));
        assertTrue(err.toString().startsWith("error: " + copy + ": differs from the base weights checkpoint"), err.toString());
        Files.delete(copy);
        err = new StringWriter();
        assertEquals(2, run(err, "export", "--checkpoint", ck.toString(), "--format", "merged", "--output",
                dir.resolve("m.pth").toString()));
        assertTrue(err.toString().contains("not found (pass the file with --weights)"), err.toString());
        err = new StringWriter();
        assertEquals(2, run(err, "export", "--checkpoint", dir.resolve("nope").toString(), "--format", "peft",
                "--output", dir.resolve("p").toString()));
        assertTrue(err.toString().contains(dir.resolve("nope") + ": no such adapter checkpoint folder"), err.toString());
    }
}
