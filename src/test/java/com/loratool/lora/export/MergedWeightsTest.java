package com.loratool.lora.export;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.loratool.LoraException;
import com.loratool.io.HostTensor;
import com.loratool.lora.AdapterSet;
import com.loratool.lora.LoraPair;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

class MergedWeightsTest {
    static HostTensor rand(Random r, long... shape) {
        float[] v = new float[(int) HostTensor.numel(shape)];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) r.nextGaussian();
        }
        return new HostTensor(shape, v);
    }

    /** Brute-force 2-D convolution of x (cin, h, w) with kernel (cout, cin, k, k), zero padding. */
    static double[] conv(float[] w, int cout, int cin, int k, double[] x, int h, int wd, int stride, int pad) {
        int oh = (h + 2 * pad - k) / stride + 1;
        int ow = (wd + 2 * pad - k) / stride + 1;
        double[] y = new double[cout * oh * ow];
        for (int o = 0; o < cout; o++) {
            for (int yy = 0; yy < oh; yy++) {
                for (int xx = 0; xx < ow; xx++) {
                    double s = 0;
                    for (int c = 0; c < cin; c++) {
                        for (int ky = 0; ky < k; ky++) {
                            for (int kx = 0; kx < k; kx++) {
                                int iy = yy * stride - pad + ky;
                                int ix = xx * stride - pad + kx;
                                if (iy >= 0 && iy < h && ix >= 0 && ix < wd) {
                                    s += w[((o * cin + c) * k + ky) * k + kx] * x[(c * h + iy) * wd + ix];
                                }
                            }
                        }
                    }
                    y[(o * oh + yy) * ow + xx] = s;
                }
            }
        }
        return y;
    }

    static double relErr(double[] a, double[] b) {
        double num = 0, den = 0;
        for (int i = 0; i < a.length; i++) {
            num += (a[i] - b[i]) * (a[i] - b[i]);
            den += b[i] * b[i];
        }
        return Math.sqrt(num / den);
    }

    @Test
    void mergedLinearEqualsAdaptedLinear() {
        Random r = new Random(1);
        int out = 9, in = 7, rank = 3;
        HostTensor w = rand(r, out, in);
        LoraPair p = new LoraPair(rand(r, rank, in), rand(r, out, rank));
        double s = 0.75;
        HostTensor merged = p.mergeInto(w, s);
        double[] x = new double[in];
        for (int i = 0; i < in; i++) {
            x[i] = r.nextGaussian();
        }
        double[] yMerged = new double[out];
        double[] yAdapted = new double[out];
        double[] ax = new double[rank];
        for (int j = 0; j < rank; j++) {
            for (int i = 0; i < in; i++) {
                ax[j] += p.a().data()[j * in + i] * x[i];
            }
        }
        for (int o = 0; o < out; o++) {
            for (int i = 0; i < in; i++) {
                yMerged[o] += merged.data()[o * in + i] * x[i];
                yAdapted[o] += w.data()[o * in + i] * x[i];
            }
            for (int j = 0; j < rank; j++) {
                yAdapted[o] += s * p.b().data()[o * rank + j] * ax[j];
            }
        }
        assertTrue(relErr(yMerged, yAdapted) < 1e-6, "rel " + relErr(yMerged, yAdapted));
    }

    @Test
    void mergedConvEqualsAdaptedConv() {
        Random r = new Random(2);
        int cin = 2, cout = 3, k = 3, rank = 2, h = 6, wd = 5, stride = 2, pad = 1;
        HostTensor w = rand(r, cout, cin, k, k);
        LoraPair p = new LoraPair(rand(r, rank, cin, k, k), rand(r, cout, rank, 1, 1));
        double s = 2.0;
        double[] x = new double[cin * h * wd];
        for (int i = 0; i < x.length; i++) {
            x[i] = r.nextGaussian();
        }
        double[] merged = conv(p.mergeInto(w, s).data(), cout, cin, k, x, h, wd, stride, pad);
        double[] base = conv(w.data(), cout, cin, k, x, h, wd, stride, pad);
        double[] ax = conv(p.a().data(), rank, cin, k, x, h, wd, stride, pad);
        int hw = ax.length / rank;
        double[] bax = conv(p.b().data(), cout, rank, 1, ax, hw, 1, 1, 0); // 1x1 conv on (rank, hw, 1)
        double[] adapted = new double[base.length];
        for (int i = 0; i < adapted.length; i++) {
            adapted[i] = base[i] + s * bax[i];
        }
        assertTrue(relErr(merged, adapted) < 1e-6, "rel " + relErr(merged, adapted));
    }

    @Test
    void mergeKeepsOtherTensorsAndChecksNames() {
        Random r = new Random(3);
        LinkedHashMap<String, HostTensor> base = new LinkedHashMap<>();
        base.put("blk.qkv.weight", rand(r, 6, 4));
        base.put("blk.qkv.bias", rand(r, 6));
        LinkedHashMap<String, HostTensor> t = new LinkedHashMap<>();
        t.put("blk.qkv.lora_A.weight", rand(r, 2, 4));
        t.put("blk.qkv.lora_B.weight", new HostTensor(new long[] {6, 2}, new float[12])); // B = 0
        AdapterSet set = AdapterSet.fromTensors(t, Path.of("adapter.safetensors"));
        Map<String, HostTensor> m = MergedWeights.merge(base, set, 4.0);
        assertSame(base.get("blk.qkv.bias"), m.get("blk.qkv.bias"));
        assertEquals(base.get("blk.qkv.weight").data()[5], m.get("blk.qkv.weight").data()[5]); // B = 0: unchanged
        base.remove("blk.qkv.weight");
        LoraException e = assertThrows(LoraException.class, () -> MergedWeights.merge(base, set, 1));
        assertTrue(e.getMessage().contains("blk.qkv.weight"), e.getMessage());
        t.remove("blk.qkv.lora_B.weight");
        e = assertThrows(LoraException.class, () -> AdapterSet.fromTensors(t, Path.of("x.safetensors")));
        assertEquals("x.safetensors: 'blk.qkv.lora_B.weight' is missing", e.getMessage());
    }
}
