package com.loratool.model.weights;

import com.loratool.LoraException;
import com.loratool.io.InputFiles;
import com.loratool.io.HostTensor;
import com.loratool.io.Safetensors;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Loads a Depth Anything V2 state dict from any supported file, under the OFFICIAL names
 * ({@code pretrained.blocks.0.attn.qkv.weight}, {@code depth_head.scratch.refinenet1...}):
 * torch {@code .pth} (zip + pickle; fp32/fp16/bf16), {@code .safetensors} with official names or
 * with Hugging Face {@code DepthAnythingForDepthEstimation} names, or a folder holding a
 * {@code model.safetensors} (a downloaded HF repository).
 */
public final class StateDicts {
    private StateDicts() {}

    /** Checkpoint file formats, detected from the first bytes (not the extension). */
    public enum Format { PTH, SAFETENSORS }

    /** Reads {@code file} and returns its tensors under official names, in file order. */
    public static LinkedHashMap<String, HostTensor> read(Path file) {
        Path f = resolve(file);
        LinkedHashMap<String, HostTensor> raw = raw(f);
        if (isDa3Naming(raw.keySet())) {
            throw LoraException.file(f, "is a Depth Anything 3 checkpoint (model.backbone.pretrained.*, model.head.*), "
                    + "not a Depth Anything V2 one");
        }
        return v2(raw, f);
    }

    /**
     * Reads a Depth Anything V2 or a Depth Anything 3 checkpoint, whichever it is, under the
     * official names of its family ({@link #read}'s or {@link #readDa3}'s); {@link #isDa3Naming}
     * tells which. The file is read once (what {@code checkpoint.ModelResolver} uses for
     * {@code --weights}).
     */
    public static LinkedHashMap<String, HostTensor> readAny(Path file) {
        Path f = resolve(file);
        LinkedHashMap<String, HostTensor> raw = raw(f);
        return isDa3Naming(raw.keySet()) || allUnder(raw, "backbone.", "head.") ? da3(raw, f) : v2(raw, f);
    }

    private static LinkedHashMap<String, HostTensor> raw(Path f) {
        LinkedHashMap<String, HostTensor> raw = switch (detect(f)) {
            case PTH -> PthReader.read(f);
            case SAFETENSORS -> Safetensors.read(f);
        };
        if (raw.isEmpty()) {
            throw LoraException.file(f, "checkpoint holds no tensors");
        }
        return stripPrefix(raw, "module.");
    }

    private static boolean allUnder(Map<String, HostTensor> raw, String a, String b) {
        return raw.keySet().stream().allMatch(k -> k.startsWith(a) || k.startsWith(b));
    }

    private static LinkedHashMap<String, HostTensor> v2(LinkedHashMap<String, HostTensor> raw, Path f) {
        if (HfNames.isHfNaming(raw.keySet())) {
            return HfNames.toOfficial(raw, f);
        }
        boolean official = raw.keySet().stream()
                .anyMatch(k -> k.startsWith("pretrained.") || k.startsWith("depth_head."));
        if (!official) {
            throw LoraException.file(f, "not a Depth Anything V2 checkpoint (tensor names like "
                    + preview(raw.keySet(), 3) + ")");
        }
        return raw;
    }

    /**
     * Reads a Depth Anything 3 checkpoint (a file, or a Hugging Face folder holding
     * {@code model.safetensors}) under the official names of the {@code DepthAnything3} module
     * tree: {@code model.backbone.pretrained.*} and {@code model.head.*}, as in the Hugging Face
     * {@code model.safetensors}. A {@code module.} prefix (older .pth, saved from a
     * DistributedDataParallel) is removed; a state dict of {@code DepthAnything3Net} itself
     * ({@code backbone.pretrained.*}, {@code head.*}) gets the {@code model.} prefix. fp16/bf16
     * tensors are widened to float32. A Depth Anything V2 checkpoint is refused in one line.
     */
    public static LinkedHashMap<String, HostTensor> readDa3(Path file) {
        Path f = resolve(file);
        return da3(raw(f), f);
    }

    private static LinkedHashMap<String, HostTensor> da3(LinkedHashMap<String, HostTensor> raw, Path f) {
        if (HfNames.isHfNaming(raw.keySet()) || raw.keySet().stream()
                .anyMatch(k -> k.startsWith("pretrained.") || k.startsWith("depth_head."))) {
            throw LoraException.file(f, "is a Depth Anything V2 checkpoint, not a Depth Anything 3 one");
        }
        if (allUnder(raw, "backbone.", "head.")) {
            LinkedHashMap<String, HostTensor> out = new LinkedHashMap<>();
            raw.forEach((k, v) -> out.put("model." + k, v));
            raw = out;
        }
        if (!isDa3Naming(raw.keySet())) {
            throw LoraException.file(f, "not a Depth Anything 3 checkpoint (tensor names like "
                    + preview(raw.keySet(), 3) + ")");
        }
        return raw;
    }

    /** True for the official Depth Anything 3 names ({@code model.backbone.pretrained.*}). */
    public static boolean isDa3Naming(Iterable<String> names) {
        for (String n : names) {
            if (n.startsWith("model.backbone.pretrained.")) {
                return true;
            }
        }
        return false;
    }

    /** A folder from a Hugging Face download stands for its model.safetensors. */
    private static Path resolve(Path file) {
        if (Files.isDirectory(file)) {
            Path st = file.resolve("model.safetensors");
            if (Files.isRegularFile(st)) {
                return st;
            }
            throw LoraException.file(file, "is a folder without model.safetensors (expected a checkpoint file)");
        }
        return InputFiles.regularFile(file); // a FIFO is refused here, never opened
    }

    /** Detects the format from the first bytes. */
    public static Format detect(Path file) {
        byte[] head;
        long size;
        try (InputStream in = Files.newInputStream(file)) {
            head = in.readNBytes(9);
            size = Files.size(file);
        } catch (IOException e) {
            throw LoraException.file(file, "cannot read (" + e.getMessage() + ")", e);
        }
        if (head.length >= 4 && head[0] == 'P' && head[1] == 'K' && (head[2] == 3 || head[2] == 5)) {
            return Format.PTH;
        }
        if (head.length >= 2 && (head[0] & 0xff) == 0x80 && head[1] >= 2 && head[1] <= 5) {
            return Format.PTH; // legacy torch pickle: PthReader explains it is unsupported
        }
        if (head.length == 9 && head[8] == '{') {
            long len = ByteBuffer.wrap(head, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
            if (len > 1 && 8 + len <= size) {
                return Format.SAFETENSORS;
            }
            throw LoraException.file(file, "truncated safetensors file (header of " + len
                    + " bytes, file of " + size + ")");
        }
        throw LoraException.file(file, "not a checkpoint (expected a PyTorch .pth or a .safetensors file)");
    }

    private static LinkedHashMap<String, HostTensor> stripPrefix(LinkedHashMap<String, HostTensor> sd, String p) {
        if (!sd.keySet().stream().allMatch(k -> k.startsWith(p))) {
            return sd;
        }
        LinkedHashMap<String, HostTensor> out = new LinkedHashMap<>();
        sd.forEach((k, v) -> out.put(k.substring(p.length()), v));
        return out;
    }

    /** "N tensors, M values" for messages and {@code lora info}. */
    public static String summary(Map<String, HostTensor> sd) {
        long n = 0;
        for (HostTensor t : sd.values()) {
            n += t.numel();
        }
        return sd.size() + " tensors, " + n + " values";
    }

    /** The first {@code max} names, quoted, then "..." if there are more. */
    public static String preview(Iterable<String> names, int max) {
        List<String> shown = new ArrayList<>();
        int total = 0;
        for (String n : names) {
            if (total++ < max) {
                shown.add("'" + n + "'");
            }
        }
        return String.join(", ", shown) + (total > max ? ", ... (" + total + " in all)" : "");
    }

    /**
     * Compares a state dict with what a model expects: names missing, unexpected and mis-shaped,
     * as one line (empty string if they match). For strict loading errors.
     */
    public static String mismatch(Map<String, HostTensor> sd, Map<String, long[]> expected) {
        List<String> missing = new ArrayList<>();
        List<String> unexpected = new ArrayList<>();
        List<String> misshaped = new ArrayList<>();
        for (Map.Entry<String, long[]> e : expected.entrySet()) {
            HostTensor t = sd.get(e.getKey());
            if (t == null) {
                missing.add(e.getKey());
            } else if (!Arrays.equals(t.shape(), e.getValue())) {
                misshaped.add(e.getKey() + " " + t.shapeString() + " vs model "
                        + Arrays.toString(e.getValue()));
            }
        }
        for (String k : sd.keySet()) {
            if (!expected.containsKey(k)) {
                unexpected.add(k);
            }
        }
        List<String> parts = new ArrayList<>();
        if (!missing.isEmpty()) {
            parts.add(missing.size() + " missing (" + preview(missing, 5) + ")");
        }
        if (!unexpected.isEmpty()) {
            parts.add(unexpected.size() + " unexpected (" + preview(unexpected, 5) + ")");
        }
        if (!misshaped.isEmpty()) {
            parts.add(misshaped.size() + " mis-shaped (" + preview(misshaped, 5) + ")");
        }
        return String.join("; ", parts);
    }
}
