package com.loratool.model.weights;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.loratool.LoraException;
import com.loratool.io.DType;
import com.loratool.io.HostTensor;
import com.loratool.io.ZipIndex;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Round trips through PthReader. Loadability by torch itself was checked by hand (torch 1.13:
 * torch.load + the official DepthAnythingV2.load_state_dict(strict=True), forward equal to
 * expected_raw.npy); tests never run Python.
 */
class PthWriterTest {
    @TempDir
    Path tmp;

    @Test
    void fixtureRoundTripsExactly() throws Exception {
        Map<String, HostTensor> sd = PthReader.read(PthReaderTest.TINY.resolve("weights.pth"));
        Path out = tmp.resolve("merged.pth");
        PthWriter.write(out, sd);
        PthReader.Contents back = PthReader.readWithDtypes(out);
        assertEquals(List.copyOf(sd.keySet()), List.copyOf(back.tensors().keySet()));
        for (String k : sd.keySet()) {
            assertArrayEquals(sd.get(k).shape(), back.tensors().get(k).shape(), k);
            assertArrayEquals(sd.get(k).data(), back.tensors().get(k).data(), k);
            assertEquals(DType.F32, back.dtypes().get(k));
        }
        assertTrue(Files.notExists(tmp.resolve("merged.pth.tmp")));
        // layout torch expects: one folder, data.pkl first, version present, storages 64-byte aligned
        try (FileChannel ch = FileChannel.open(out, StandardOpenOption.READ)) {
            ZipIndex z = ZipIndex.open(out, ch);
            List<String> names = List.copyOf(z.entries().keySet());
            assertEquals("archive/data.pkl", names.get(0));
            assertTrue(names.contains("archive/version"));
            assertTrue(names.contains("archive/byteorder"));
            for (ZipIndex.Entry e : z.entries().values()) {
                assertEquals(0, e.method(), e.name());
                if (e.name().startsWith("archive/data/")) {
                    assertEquals(0, z.dataStart(e) % 64, e.name());
                }
            }
        }
        // deterministic: same input, same bytes
        Path again = tmp.resolve("again.pth");
        PthWriter.write(again, sd);
        assertArrayEquals(Files.readAllBytes(out), Files.readAllBytes(again));
    }

    @Test
    void oddShapesAndLargeIntegers() {
        Map<String, HostTensor> sd = new LinkedHashMap<>();
        sd.put("scalar", new HostTensor(new long[] {}, new float[] {2.5f}));
        float[] four = new float[2 * 3 * 4 * 5];
        for (int i = 0; i < four.length; i++) {
            four[i] = i * 0.5f - 7;
        }
        sd.put("four.d", new HostTensor(new long[] {2, 3, 4, 5}, four));
        sd.put("empty", new HostTensor(new long[] {0, 3}, new float[0]));
        float[] wide = new float[70000]; // numel and stride need BININT (> 65535)
        wide[69999] = 1f;
        sd.put("wide", new HostTensor(new long[] {1, 70000}, wide));
        sd.put("ünïcode.name", new HostTensor(new long[] {1}, new float[] {-0f}));
        Path out = tmp.resolve("odd.pth");
        PthWriter.write(out, sd);
        Map<String, HostTensor> back = PthReader.read(out);
        assertEquals(List.copyOf(sd.keySet()), List.copyOf(back.keySet()));
        for (String k : sd.keySet()) {
            assertArrayEquals(sd.get(k).shape(), back.get(k).shape(), k);
            assertArrayEquals(sd.get(k).data(), back.get(k).data(), k);
        }
        // a NaN is written as stored, but refused when read (docs/reliability.md: tensors entering are finite)
        sd.put("ünïcode.name", new HostTensor(new long[] {1}, new float[] {Float.NaN}));
        PthWriter.write(out, sd);
        String msg = assertThrows(LoraException.class,
                () -> PthReader.read(out)).getMessage();
        assertTrue(msg.contains("'ünïcode.name' holds 1 non-finite"), msg);
    }

    @Test
    void moreThanOneSetitemsBatch() {
        Map<String, HostTensor> sd = new LinkedHashMap<>();
        for (int i = 0; i < 2500; i++) {
            sd.put("t" + i, new HostTensor(new long[] {1}, new float[] {i}));
        }
        Path out = tmp.resolve("many.pth");
        PthWriter.write(out, sd);
        Map<String, HostTensor> back = PthReader.read(out);
        assertEquals(2500, back.size());
        assertEquals(2499f, back.get("t2499").data()[0]);
    }
}
