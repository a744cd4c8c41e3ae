package com.loratool.model.weights;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.loratool.LoraException;
import com.loratool.io.DType;
import com.loratool.io.HostTensor;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PthReaderTest {
    static final Path TINY = Path.of(System.getProperty("fixtures.dir"), "da2-tiny");

    @TempDir
    Path tmp;

    static Path resource(String name) {
        try {
            return Path.of(PthReaderTest.class.getResource("/pth/" + name).toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Values printed by /usr/bin/python3 with torch 1.13:
     * sd = torch.load('weights.pth'); t = sd[k]; f = t.flatten()
     * print(k, tuple(t.shape), f[0].item(), f[-1].item(), f[len(f)//2].item(), t.double().sum().item())
     */
    record Expect(String key, long[] shape, double first, double last, double middle, double sum) {}

    static final List<Expect> EXPECTED = List.of(
            new Expect("pretrained.pos_embed", new long[] {1, 1370, 48},
                    -0.004596039652824402, -0.011395085602998734, 0.004057367332279682, 1.328926462248745),
            new Expect("pretrained.blocks.0.attn.qkv.weight", new long[] {144, 48},
                    0.005315408110618591, -0.0006000763387419283, -0.03719870373606682, 2.962790529226595),
            new Expect("depth_head.resize_layers.0.weight", new long[] {8, 8, 4, 4},
                    0.04124164208769798, -0.029937157407402992, -0.06845851987600327, -0.4278437657667382),
            new Expect("depth_head.scratch.output_conv2.2.weight", new long[] {1, 32, 1, 1},
                    0.016174951568245888, -0.04141940176486969, -0.05370666831731796, -0.8517446992918849),
            new Expect("depth_head.scratch.refinenet1.out_conv.bias", new long[] {16},
                    -0.09934212267398834, -0.17226547002792358, 0.22684761881828308, -1.035500142723322));

    @Test
    void readsFp32FixtureWithExactValues() {
        PthReader.Contents c = PthReader.readWithDtypes(TINY.resolve("weights.pth"));
        Map<String, HostTensor> sd = c.tensors();
        // python: len(sd) == 127, first keys, last key, total numel 292361
        assertEquals(127, sd.size());
        assertEquals(List.of("pretrained.cls_token", "pretrained.pos_embed", "pretrained.mask_token"),
                sd.keySet().stream().limit(3).toList());
        assertEquals("depth_head.scratch.output_conv2.2.bias", sd.keySet().stream().reduce((a, b) -> b).get());
        assertEquals(292361, sd.values().stream().mapToLong(HostTensor::numel).sum());
        assertEquals(DType.F32, c.dtypes().get("pretrained.cls_token"));
        for (Expect e : EXPECTED) {
            HostTensor t = sd.get(e.key());
            assertArrayEquals(e.shape(), t.shape(), e.key());
            float[] d = t.data();
            assertEquals((float) e.first(), d[0], e.key());
            assertEquals((float) e.last(), d[d.length - 1], e.key());
            assertEquals((float) e.middle(), d[d.length / 2], e.key());
            double s = 0;
            for (float v : d) {
                s += v;
            }
            assertEquals(e.sum(), s, 1e-5, e.key());
        }
    }

    @Test
    void fp16AndBf16MatchFp32WithinTheirPrecision() {
        Map<String, HostTensor> f32 = PthReader.read(TINY.resolve("weights.pth"));
        PthReader.Contents f16 = PthReader.readWithDtypes(TINY.resolve("weights-fp16.pth"));
        PthReader.Contents bf16 = PthReader.readWithDtypes(TINY.resolve("weights-bf16.pth"));
        assertEquals(DType.F16, f16.dtypes().get("pretrained.cls_token"));
        assertEquals(DType.BF16, bf16.dtypes().get("pretrained.cls_token"));
        assertEquals(List.copyOf(f32.keySet()), List.copyOf(f16.tensors().keySet()));
        assertEquals(List.copyOf(f32.keySet()), List.copyOf(bf16.tensors().keySet()));
        for (String k : f32.keySet()) {
            float[] a = f32.get(k).data();
            float[] h = f16.tensors().get(k).data();
            float[] b = bf16.tensors().get(k).data();
            assertArrayEquals(f32.get(k).shape(), f16.tensors().get(k).shape(), k);
            assertArrayEquals(f32.get(k).shape(), bf16.tensors().get(k).shape(), k);
            for (int i = 0; i < a.length; i++) {
                // round to nearest: relative error <= 2^-11 (fp16, plus 2^-25 absolute for
                // subnormals) and <= 2^-8 (bf16, 8-bit significand)
                assertTrue(Math.abs(h[i] - a[i]) <= Math.abs(a[i]) * 0x1p-11 + 0x1p-25, k + "[" + i + "] fp16");
                assertTrue(Math.abs(b[i] - a[i]) <= Math.abs(a[i]) * 0x1p-8, k + "[" + i + "] bf16");
            }
        }
        // python: s16[k].flatten()[5], sb[k].flatten()[5] for k = blocks.0.attn.qkv.weight
        String k = "pretrained.blocks.0.attn.qkv.weight";
        assertEquals(-0.0232696533203125f, f16.tensors().get(k).data()[5]);
        assertEquals(-0.0233154296875f, bf16.tensors().get(k).data()[5]);
    }

    /**
     * views-wrapped.pth, made with torch 1.13:
     * base = torch.arange(12.).reshape(3, 4); sd = OrderedDict(transposed=base.t(),
     * offset_view=base[1:, 2:], shared_row=base[2], half_t=base.half().t()[1:],
     * bf16=torch.tensor([1.5, -2.0, 3.140625]).bfloat16(), f64=torch.tensor([[0.1, 0.2]], dtype=float64),
     * steps=torch.tensor(7), scalar_f=torch.tensor(2.5));
     * torch.save({'epoch': 3, 'model': sd, 'note': '...'}, 'views-wrapped.pth')
     */
    @Test
    void offsetsStridesDtypesAndWrapper() {
        PthReader.Contents c = PthReader.readWithDtypes(resource("views-wrapped.pth"));
        Map<String, HostTensor> sd = c.tensors();
        assertEquals(List.of("transposed", "offset_view", "shared_row", "half_t", "bf16", "f64", "steps", "scalar_f"),
                List.copyOf(sd.keySet()));
        assertArrayEquals(new long[] {4, 3}, sd.get("transposed").shape());
        assertArrayEquals(new float[] {0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11}, sd.get("transposed").data());
        assertArrayEquals(new long[] {2, 2}, sd.get("offset_view").shape());
        assertArrayEquals(new float[] {6, 7, 10, 11}, sd.get("offset_view").data());
        assertArrayEquals(new float[] {8, 9, 10, 11}, sd.get("shared_row").data());
        assertArrayEquals(new long[] {3, 3}, sd.get("half_t").shape());
        assertArrayEquals(new float[] {1, 5, 9, 2, 6, 10, 3, 7, 11}, sd.get("half_t").data());
        assertEquals(DType.F16, c.dtypes().get("half_t"));
        assertArrayEquals(new float[] {1.5f, -2f, 3.140625f}, sd.get("bf16").data());
        assertEquals(DType.BF16, c.dtypes().get("bf16"));
        assertArrayEquals(new float[] {0.1f, 0.2f}, sd.get("f64").data());
        assertArrayEquals(new long[] {1, 2}, sd.get("f64").shape());
        assertEquals(0, sd.get("steps").shape().length);
        assertArrayEquals(new float[] {7}, sd.get("steps").data());
        assertEquals(DType.I64, c.dtypes().get("steps"));
        assertArrayEquals(new float[] {2.5f}, sd.get("scalar_f").data());
    }

    @Test
    void badFilesGiveOneLineErrors() throws Exception {
        Path text = resource("not-a-checkpoint.pth");
        assertEquals(text + ": not a zip archive, so not a PyTorch .pth checkpoint",
                assertThrows(LoraException.class, () -> PthReader.read(text)).getMessage());
        Path legacy = resource("legacy.pth");
        assertTrue(assertThrows(LoraException.class, () -> PthReader.read(legacy)).getMessage()
                .startsWith(legacy + ": legacy (pre-1.6, non-zip) torch serialization is not supported"));
        Path complex = resource("complex.pth");
        assertEquals(complex + ": unsupported dtype: torch.ComplexFloatStorage"
                        + " (supported: float32, float16, bfloat16, float64 and integer storages)",
                assertThrows(LoraException.class, () -> PthReader.read(complex)).getMessage());
        Path bare = resource("bare-tensor.pth");
        assertEquals(bare + ": not a state_dict: the checkpoint holds a tensor",
                assertThrows(LoraException.class, () -> PthReader.read(bare)).getMessage());
        Path missing = tmp.resolve("missing.pth");
        assertEquals(missing + ": file not found",
                assertThrows(LoraException.class, () -> PthReader.read(missing)).getMessage());
        // a zip that is not a torch checkpoint
        Path zip = tmp.resolve("other.zip");
        try (var z = new ZipOutputStream(Files.newOutputStream(zip))) {
            z.putNextEntry(new ZipEntry("readme.txt"));
            z.write("hi".getBytes());
        }
        assertEquals(zip + ": zip archive without data.pkl: not a PyTorch checkpoint",
                assertThrows(LoraException.class, () -> PthReader.read(zip)).getMessage());
        // truncated checkpoint: the central directory is gone
        byte[] all = Files.readAllBytes(TINY.resolve("weights.pth"));
        Path cut = tmp.resolve("cut.pth");
        Files.write(cut, Arrays.copyOf(all, all.length / 2));
        String m = assertThrows(LoraException.class, () -> PthReader.read(cut)).getMessage();
        assertTrue(m.startsWith(cut + ": damaged zip archive"), m);
    }

    /** The same archive re-zipped with deflate (torch never does this, but zip tools can). */
    @Test
    void deflatedArchiveReadsTheSame() throws Exception {
        Path src = TINY.resolve("weights-fp16.pth");
        Path re = tmp.resolve("deflated.pth");
        try (var zin = new ZipFile(src.toFile());
                var z = new ZipOutputStream(Files.newOutputStream(re))) {
            for (var e : Collections.list(zin.entries())) {
                z.putNextEntry(new ZipEntry(e.getName()));
                try (var in = zin.getInputStream(e)) {
                    in.transferTo(z);
                }
            }
        }
        Map<String, HostTensor> a = PthReader.read(src);
        Map<String, HostTensor> b = PthReader.read(re);
        assertEquals(a.keySet(), b.keySet());
        for (String k : a.keySet()) {
            assertArrayEquals(a.get(k).data(), b.get(k).data(), k);
        }
    }

    @Test
    void unknownPickleOpcodeIsNamed() throws Exception {
        // PROTO 2, then EXT1 (0x82), which torch never writes
        byte[] pickle = {(byte) 0x80, 2, (byte) 0x82, 1, '.'};
        Unpickler.PickleException e = assertThrows(Unpickler.PickleException.class,
                () -> new Unpickler(pickle, pid -> pid).load());
        assertEquals("pickle opcode EXT1 (0x82) at byte 2 is not supported", e.getMessage());
        // a hand-written pickle: {'a': (1, -2, 300, 2**40, None, True)} with memo use
        byte[] p2 = {(byte) 0x80, 2, '}', 'q', 0, '(', 'X', 1, 0, 0, 0, 'a', 'q', 1,
            '(', 'K', 1, 'J', (byte) 0xfe, (byte) 0xff, (byte) 0xff, (byte) 0xff, 'M', 44, 1,
            (byte) 0x8a, 6, 0, 0, 0, 0, 0, 1, 'N', (byte) 0x88, 't', 'u', 'h', 0, '0', '.'};
        // note: 'h',0,'0' pushes the memoised dict and pops it again
        Object top = new Unpickler(p2, pid -> pid).load();
        assertTrue(top instanceof Map<?, ?>);
        List<?> v = (List<?>) ((Map<?, ?>) top).get("a");
        assertEquals(Arrays.asList(1L, -2L, 300L, 1L << 40, null, true), v);
    }
}
