package com.loratool.lora.export;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.loratool.LoraException;
import com.loratool.io.AtomicFiles;
import com.loratool.io.HostTensor;
import com.loratool.io.Json;
import com.loratool.io.Printable;
import com.loratool.io.Safetensors;
import com.loratool.lora.AdapterSet;
import com.loratool.lora.LoraPair;
import com.loratool.lora.LoraScaling;
import com.loratool.lora.QkvSlice;
import com.loratool.model.weights.HfNames;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * A Hugging Face PEFT LoRA adapter for {@code DepthAnythingForDepthEstimation}: the tensors of
 * {@code adapter_model.safetensors} ({@code base_model.model.<HF module>.lora_A.weight} /
 * {@code .lora_B.weight}) and {@code adapter_config.json}.
 *
 * <p>Export: module names are mapped official → HF; a fused {@code attn.qkv} adapter (A r x D,
 * B 3D x r) becomes query/key/value adapters that share A, with B split into its three row
 * blocks — exactly the same update. Import: HF → official; separate query/key/value adapters fuse
 * exactly into one qkv adapter of rank r_q + r_k + r_v (A stacked, B block-diagonal; a missing
 * part contributes nothing). Per-layer scaling differences (PEFT's {@code rank_pattern} /
 * {@code alpha_pattern}) are folded into B, and every layer is zero-padded to the largest rank,
 * so the imported adapters carry one r and alpha with the same scaling.
 *
 * <p>Depth Anything 3 ({@link #isDa3}): the official {@code DepthAnything3} module has no Hugging
 * Face transformers counterpart; PEFT wraps the official module tree itself, so the module names
 * are the official ones unchanged ({@code base_model.model.model.backbone.pretrained.blocks.N.attn.qkv},
 * {@code ...model.head.scratch.*}), and {@code attn.qkv} stays one fused Linear (A r x D, B 3D x r).
 * A q/k/v slice has no module of its own there: the slices of one qkv become one qkv adapter of
 * rank r_q + r_k + r_v (A stacked, each B in its row block, zero rows for the parts not adapted;
 * {@link #da3Slices}), the same update; DoRA slices are refused (their magnitude would need the
 * base weights' row norms).
 */
public record PeftAdapter(LinkedHashMap<String, HostTensor> tensors, ObjectNode config) {
    public static final String PREFIX = "base_model.model.";
    private static final ObjectMapper JSON = Json.JSON;

    /**
     * Adapters in the project's form: official names, one (r, alpha, rslora) for all; {@code modules}:
     * the fully trained parameters (PEFT's modules_to_save) by official name, empty if none.
     */
    public record Imported(AdapterSet adapters, LoraScaling scaling, LinkedHashMap<String, HostTensor> modules) {}

    /**
     * HF module names of an adapted official module (three for attn.qkv, one for a qkv slice
     * {@code attn.qkv.q}); error if it has no HF name.
     */
    static List<String> hfModules(String official) {
        if (isDa3(official)) {
            if (QkvSlice.parse(official) != null) {
                throw new LoraException("module '" + official + "': a q/k/v slice adapter has no module of its own in the "
                        + "official Depth Anything 3 model (its attn.qkv is one Linear); export the merged weights, or "
                        + "train the whole qkv");
            }
            return List.of(official);
        }
        QkvSlice slice = QkvSlice.parse(official);
        if (slice != null) {
            return List.of(hfModules(slice.module()).get(slice.part()));
        }
        List<String> qkv = HfNames.qkvNames(official + ".weight");
        if (qkv != null) {
            return qkv.stream().map(n -> n.substring(0, n.length() - ".weight".length())).toList();
        }
        String hf = HfNames.toHf(official + ".weight");
        if (hf == null) {
            throw new LoraException("module '" + official + "' has no Hugging Face DepthAnything counterpart");
        }
        return List.of(hf.substring(0, hf.length() - ".weight".length()));
    }

    /**
     * True for a Depth Anything 3 name ({@code model.backbone.*}, {@code model.head.*}): the official
     * module tree, which is also the PEFT module tree of {@code DepthAnything3}.
     */
    public static boolean isDa3(String name) {
        return name.startsWith("model.backbone.") || name.startsWith("model.head.");
    }

    /** The official name of a PEFT module or parameter name: unchanged for Depth Anything 3, else HF → official (null if none). */
    private static String officialOf(String peftName) {
        return isDa3(peftName) ? peftName : HfNames.toOfficial(peftName);
    }

    /** Official parameters by PEFT name: unchanged for Depth Anything 3, else official → HF (qkv split). */
    private static LinkedHashMap<String, HostTensor> peftNamesOf(Map<String, HostTensor> official) {
        LinkedHashMap<String, HostTensor> out = new LinkedHashMap<>();
        LinkedHashMap<String, HostTensor> v2 = new LinkedHashMap<>();
        official.forEach((k, t) -> (isDa3(k) ? out : v2).put(k, t));
        if (!v2.isEmpty()) {
            out.putAll(HfNames.fromOfficial(v2));
        }
        return out;
    }

    /**
     * Converts project adapters (official names, one {@code scaling}) to PEFT; a layer of another
     * rank gets {@code rank_pattern} / {@code alpha_pattern} entries with the same scaling.
     */
    public static PeftAdapter export(AdapterSet set, LoraScaling scaling, double dropout, String baseModel) {
        return export(set, m -> {
            int r = set.layers().get(m).rank();
            return r == scaling.r() ? scaling : scaling.atRank(r);
        }, scaling, dropout, baseModel);
    }

    /**
     * Converts project adapters to PEFT, each module with its own (r, alpha) from {@code scalingOf}
     * (e.g. {@code AdapterCheckpoint::scaling}, which applies the run's rank/alpha patterns): a
     * module whose r or alpha differs from {@code common}'s gets a {@code rank_pattern} /
     * {@code alpha_pattern} entry under its full HF module name. A fused qkv becomes
     * query/key/value sharing A, with B (and DoRA's magnitude) split into row blocks; a qkv slice
     * becomes just its HF module. DoRA adapters write {@code use_dora: true} and
     * {@code <module>.lora_magnitude_vector}. {@code baseModel} goes to {@code base_model_name_or_path}.
     */
    public static PeftAdapter export(AdapterSet set, Function<String, LoraScaling> scalingOf, LoraScaling common,
                                     double dropout, String baseModel) {
        return export(set, scalingOf, common, dropout, baseModel, new LinkedHashMap<>());
    }

    /**
     * As {@link #export(AdapterSet, Function, LoraScaling, double, String)}, with fully trained
     * parameters ({@code lora.train_modules}, official names) written the way PEFT saves
     * {@code modules_to_save}: {@code modules_to_save} lists the HF modules that own them, and
     * each parameter is {@code base_model.model.<HF module>.<param>} in adapter_model.safetensors
     * (PEFT's {@code get_peft_model_state_dict} drops the wrapper's {@code modules_to_save.default.}).
     */
    public static PeftAdapter export(AdapterSet set, Function<String, LoraScaling> scalingOf, LoraScaling common,
                                     double dropout, String baseModel, LinkedHashMap<String, HostTensor> modules) {
        LinkedHashMap<String, HostTensor> tensors = new LinkedHashMap<>();
        List<String> targets = new ArrayList<>();
        ObjectNode rankPattern = JSON.createObjectNode();
        ObjectNode alphaPattern = JSON.createObjectNode();
        LinkedHashMap<String, LoraScaling> fusedScaling = new LinkedHashMap<>();
        LinkedHashMap<String, LoraPair> layers = da3Slices(set, scalingOf, fusedScaling);
        for (Map.Entry<String, LoraPair> e : layers.entrySet()) {
            LoraPair p = e.getValue();
            LoraScaling ls = fusedScaling.containsKey(e.getKey()) ? fusedScaling.get(e.getKey()) : scalingOf.apply(e.getKey());
            if (ls.r() != p.rank() || ls.rslora() != common.rslora()) {
                throw new LoraException("module '" + e.getKey() + "': adapter rank " + p.rank() + " but its config says r = "
                        + ls.r());
            }
            List<String> hf = hfModules(e.getKey());
            HostTensor[] bs = hf.size() == 1 ? new HostTensor[] {p.b()} : splitRows(p.b(), hf.size(), e.getKey());
            HostTensor[] ms = !p.dora() ? null
                    : hf.size() == 1 ? new HostTensor[] {p.magnitude()} : splitRows(p.magnitude(), hf.size(), e.getKey());
            for (int i = 0; i < hf.size(); i++) {
                String m = hf.get(i);
                tensors.put(PREFIX + m + AdapterSet.A_SUFFIX, p.a());
                tensors.put(PREFIX + m + AdapterSet.B_SUFFIX, bs[i]);
                if (ms != null) {
                    tensors.put(PREFIX + m + AdapterSet.M_SUFFIX, ms[i]);
                }
                targets.add(m);
                if (ls.r() != common.r()) {
                    rankPattern.put(m, ls.r());
                }
                if (ls.alpha() != common.alpha()) {
                    alphaPattern.put(m, ls.alpha());
                }
            }
        }
        ObjectNode c = JSON.createObjectNode();
        c.put("peft_type", "LORA");
        c.putNull("task_type");
        c.put("base_model_name_or_path", baseModel);
        c.put("r", common.r());
        c.put("lora_alpha", common.alpha());
        c.put("lora_dropout", dropout);
        c.put("use_rslora", common.rslora());
        c.put("use_dora", set.dora());
        c.put("bias", "none");
        c.put("fan_in_fan_out", false);
        c.put("init_lora_weights", true);
        c.put("inference_mode", true);
        ArrayNode t = c.putArray("target_modules");
        targets.forEach(t::add);
        c.set("rank_pattern", rankPattern);
        c.set("alpha_pattern", alphaPattern);
        if (modules.isEmpty()) {
            c.putNull("modules_to_save");
        } else {
            ArrayNode save = c.putArray("modules_to_save");
            LinkedHashSet<String> owners = new LinkedHashSet<>();
            for (Map.Entry<String, HostTensor> e : peftNamesOf(modules).entrySet()) {
                tensors.put(PREFIX + e.getKey(), e.getValue());
                owners.add(e.getKey().substring(0, e.getKey().lastIndexOf('.')));
            }
            owners.forEach(save::add);
        }
        c.putNull("layers_to_transform");
        return new PeftAdapter(tensors, c);
    }

    /**
     * The layers to export: {@code set}'s, with the q/k/v slices of each Depth Anything 3 qkv
     * (official {@code DepthAnything3} has one qkv Linear) fused into one qkv adapter at the first
     * slice's place: A = [A_q; A_k; A_v] of the parts present (rank R = their sum), B (3D x R) with
     * each part's B in its row block and column block (times its scaling / the first part's), zero
     * elsewhere. Its scaling keeps the first part's ({@link LoraScaling#atRank}), and goes to
     * {@code fusedScaling}. V2 slices are left as they are (HF has separate query/key/value).
     */
    static LinkedHashMap<String, LoraPair> da3Slices(AdapterSet set, Function<String, LoraScaling> scalingOf,
                                                     Map<String, LoraScaling> fusedScaling) {
        LinkedHashMap<String, LoraPair> out = new LinkedHashMap<>();
        LinkedHashMap<String, String[]> slices = new LinkedHashMap<>();
        for (Map.Entry<String, LoraPair> e : set.layers().entrySet()) {
            QkvSlice sl = QkvSlice.parse(e.getKey());
            if (sl == null || !isDa3(sl.module())) {
                out.put(e.getKey(), e.getValue());
                continue;
            }
            if (e.getValue().dora()) {
                throw new LoraException("module '" + e.getKey() + "': a DoRA q/k/v slice cannot be a PEFT adapter of the "
                        + "official Depth Anything 3 model (its attn.qkv is one Linear, and the magnitude of the rows not "
                        + "adapted would need the base weights); export the merged weights");
            }
            if (set.layers().containsKey(sl.module())) {
                throw new LoraException("module '" + sl.module() + "': adapters on both the whole qkv and its slice "
                        + e.getKey());
            }
            out.putIfAbsent(sl.module(), null); // the fused adapter's place
            slices.computeIfAbsent(sl.module(), k -> new String[3])[sl.part()] = e.getKey();
        }
        for (Map.Entry<String, String[]> e : slices.entrySet()) {
            List<String> names = Arrays.stream(e.getValue()).filter(n -> n != null).toList();
            LoraScaling first = scalingOf.apply(names.get(0));
            LoraPair p0 = set.layers().get(names.get(0));
            int in = p0.inSize();
            int rows = p0.outFeatures();
            int rank = names.stream().mapToInt(n -> set.layers().get(n).rank()).sum();
            float[] a = new float[rank * in];
            float[] b = new float[3 * rows * rank];
            int col = 0;
            for (int k = 0; k < 3; k++) {
                String n = e.getValue()[k];
                if (n == null) {
                    continue;
                }
                LoraPair p = set.layers().get(n);
                if (p.inSize() != in || p.outFeatures() != rows) {
                    throw new LoraException("module '" + e.getKey() + "': its q/k/v slice adapters differ in shape");
                }
                System.arraycopy(p.a().data(), 0, a, col * in, p.rank() * in);
                double f = scalingOf.apply(n).value() / first.value();
                float[] pb = p.b().data();
                for (int o = 0; o < rows; o++) {
                    for (int j = 0; j < p.rank(); j++) {
                        float v = pb[o * p.rank() + j];
                        b[(k * rows + o) * rank + col + j] = f == 1 ? v : (float) (f * v);
                    }
                }
                col += p.rank();
            }
            fusedScaling.put(e.getKey(), first.atRank(rank));
            out.put(e.getKey(), new LoraPair(new HostTensor(new long[] {rank, in}, a),
                    new HostTensor(new long[] {3L * rows, rank}, b), null));
        }
        return out;
    }

    /** Writes {@code adapter_model.safetensors} and {@code adapter_config.json} into {@code dir}. */
    public void write(Path dir) {
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw LoraException.file(dir, "cannot create folder: " + e.getMessage(), e);
        }
        Safetensors.write(dir.resolve("adapter_model.safetensors"), tensors, Map.of("format", "pt"));
        try {
            AtomicFiles.writeString(dir.resolve("adapter_config.json"),
                    JSON.writerWithDefaultPrettyPrinter().writeValueAsString(config) + "\n");
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Reads a PEFT adapter folder ({@code adapter_config.json} + {@code adapter_model.safetensors}). */
    public static PeftAdapter read(Path dir) {
        Path cfg = dir.resolve("adapter_config.json");
        Path st = dir.resolve("adapter_model.safetensors");
        if (!Files.isRegularFile(cfg)) {
            throw LoraException.file(dir, "not a PEFT adapter folder (no adapter_config.json)");
        }
        if (!Files.isRegularFile(st)) {
            throw LoraException.file(dir, "no adapter_model.safetensors (adapter_model.bin is not supported; "
                    + "save with safe_serialization=True)");
        }
        JsonNode c = Json.readFinite(cfg);
        if (!c.isObject()) {
            throw LoraException.file(cfg, "not a JSON object");
        }
        return new PeftAdapter(Safetensors.read(st), (ObjectNode) c);
    }

    /** As {@link #toProject(Path, Map)} without a model: the targets are matched against the tensors only. */
    public Imported toProject(Path dir) {
        return toProject(dir, null);
    }

    /**
     * The linear and convolution layers of a model, by full HF module name (query, key and value
     * apart), each true when linear: what PEFT's target_modules are matched against.
     */
    public static LinkedHashMap<String, Boolean> layersOf(Map<String, HostTensor> officialWeights) {
        LinkedHashMap<String, Boolean> out = new LinkedHashMap<>();
        for (Map.Entry<String, HostTensor> e : officialWeights.entrySet()) {
            int rank = e.getValue().shape().length;
            if (!e.getKey().endsWith(".weight") || (rank != 2 && rank != 4)) {
                continue;
            }
            if (isDa3(e.getKey())) {
                out.put(e.getKey().substring(0, e.getKey().length() - ".weight".length()), rank == 2);
                continue;
            }
            List<String> qkv = HfNames.qkvNames(e.getKey());
            String hf = HfNames.toHf(e.getKey());
            for (String n : qkv != null ? qkv : hf != null ? List.of(hf) : List.<String>of()) {
                out.put(n.substring(0, n.length() - ".weight".length()), rank == 2);
            }
        }
        return out;
    }

    /** Splits the rows (dim 0) of B into equal blocks. */
    static HostTensor[] splitRows(HostTensor b, int parts, String module) {
        long rows = b.shape()[0];
        if (rows % parts != 0) {
            throw new LoraException("module '" + module + "': LoRA B has " + rows + " rows, not divisible by " + parts);
        }
        int len = (int) (b.numel() / parts);
        HostTensor[] out = new HostTensor[parts];
        for (int i = 0; i < parts; i++) {
            long[] s = b.shape().clone();
            s[0] = rows / parts;
            out[i] = new HostTensor(s, Arrays.copyOfRange(b.data(), i * len, (i + 1) * len));
        }
        return out;
    }

    private static final String[] MAGNITUDE_KEYS = {
        ".lora_magnitude_vector", ".lora_magnitude_vector.weight", ".lora_magnitude_vector.default",
        ".lora_magnitude_vector.default.weight"};

    /**
     * Converts a PEFT adapter into project adapters, its config read strictly ({@link PeftConfig})
     * and its target modules matched against the model's layers and the tensors present;
     * {@code dir} names the source in errors, {@code layers} are the full HF names of the base
     * model's linear and convolution layers ({@link #layersOf}; null when no model is at hand: the
     * targets are then matched against the tensors only). Query, key and value adapters of one
     * block fuse exactly into one qkv adapter when all three are present (A stacked, B
     * block-diagonal, DoRA magnitudes concatenated); a subset becomes qkv slices
     * ({@code attn.qkv.q}). Per-layer scalings are folded into B and every layer is zero-padded to
     * the largest rank, so the result has one (r, alpha) with the same updates.
     */
    public Imported toProject(Path dir, Map<String, Boolean> layers) {
        Path cfgFile = dir.resolve("adapter_config.json");
        PeftConfig pc = PeftConfig.of(config, cfgFile);
        boolean dora = pc.dora();
        int r = pc.r();
        double alpha = pc.alpha();
        boolean rslora = pc.rslora();
        // 1. HF module -> (A, B, magnitude)
        Map<String, HostTensor> as = new LinkedHashMap<>();
        Map<String, HostTensor> bs = new LinkedHashMap<>();
        Map<String, HostTensor> ms = new LinkedHashMap<>();
        List<String> toSave = pc.modulesToSave();
        LinkedHashMap<String, HostTensor> saved = new LinkedHashMap<>();
        for (Map.Entry<String, HostTensor> e : tensors.entrySet()) {
            String k = e.getKey();
            String m = k.startsWith(PREFIX) ? k.substring(PREFIX.length()) : k;
            String plain = m.replace(".modules_to_save.default.", ".");
            String owner = plain.contains(".") ? plain.substring(0, plain.lastIndexOf('.')) : "";
            if (!plain.contains(".lora_") && toSave.stream().anyMatch(t -> owner.equals(t) || owner.endsWith("." + t))) {
                saved.put(plain, e.getValue());
                continue;
            }
            m = m.replace(".lora_A.default.weight", AdapterSet.A_SUFFIX).replace(".lora_B.default.weight",
                    AdapterSet.B_SUFFIX);
            String magnitudeOf = null;
            for (String suffix : MAGNITUDE_KEYS) {
                if (m.endsWith(suffix)) {
                    magnitudeOf = m.substring(0, m.length() - suffix.length());
                }
            }
            if (m.endsWith(AdapterSet.A_SUFFIX)) {
                as.put(m.substring(0, m.length() - AdapterSet.A_SUFFIX.length()), e.getValue());
            } else if (m.endsWith(AdapterSet.B_SUFFIX)) {
                bs.put(m.substring(0, m.length() - AdapterSet.B_SUFFIX.length()), e.getValue());
            } else if (magnitudeOf != null) {
                if (!dora) {
                    throw LoraException.file(cfgFile, "use_dora is false but adapter_model.safetensors holds '" + k + "'");
                }
                ms.put(magnitudeOf, e.getValue());
            } else {
                throw LoraException.file(dir, "unsupported tensor '" + k
                        + "' (only lora_A / lora_B weights and DoRA's lora_magnitude_vector can be imported)");
            }
        }
        // 2. official module -> parts (one, or query/key/value)
        LinkedHashMap<String, LoraPair[]> parts = new LinkedHashMap<>();
        LinkedHashMap<String, double[]> scales = new LinkedHashMap<>();
        for (Map.Entry<String, HostTensor> e : as.entrySet()) {
            String hf = e.getKey();
            HostTensor b = bs.remove(hf);
            if (b == null) {
                throw LoraException.file(dir, "'" + PREFIX + hf + AdapterSet.B_SUFFIX + "' is missing");
            }
            HostTensor mag = ms.remove(hf);
            if (dora && mag == null) {
                throw LoraException.file(dir, "use_dora is true but the DoRA magnitude '" + PREFIX + hf + AdapterSet.M_SUFFIX
                        + "' is missing");
            }
            String official = officialOf(hf + ".weight");
            if (official == null) {
                throw LoraException.file(dir, "'" + hf + "' is not a module of DepthAnythingForDepthEstimation");
            }
            official = official.substring(0, official.length() - ".weight".length());
            LoraPair pair;
            try {
                pair = new LoraPair(e.getValue(), b, mag);
            } catch (IllegalArgumentException ex) {
                throw LoraException.file(dir, hf + ": " + ex.getMessage());
            }
            int lr = pc.rankOf(hf);
            double la = pc.alphaOf(hf);
            if (lr != pair.rank()) {
                throw LoraException.file(cfgFile, (lr == r ? "r" : "rank_pattern") + ": says " + lr + " for " + hf
                        + ", but its lora_A in adapter_model.safetensors has rank " + pair.rank());
            }
            double s = new LoraScaling(lr, la, rslora).value();
            int slot = 0;
            int nslots = 1;
            if (hf.endsWith(".attention.attention.query") || hf.endsWith(".attention.attention.key")
                    || hf.endsWith(".attention.attention.value")) {
                nslots = 3;
                slot = hf.endsWith(".query") ? 0 : hf.endsWith(".key") ? 1 : 2;
            }
            int n = nslots;
            parts.computeIfAbsent(official, k -> new LoraPair[n])[slot] = pair;
            scales.computeIfAbsent(official, k -> new double[n])[slot] = s;
        }
        if (!bs.isEmpty()) {
            throw LoraException.file(dir, "'" + PREFIX + bs.keySet().iterator().next() + AdapterSet.A_SUFFIX + "' is missing");
        }
        if (!ms.isEmpty()) {
            throw LoraException.file(dir, "'" + PREFIX + ms.keySet().iterator().next() + AdapterSet.M_SUFFIX
                    + "' has no lora_A / lora_B");
        }
        if (parts.isEmpty()) {
            throw LoraException.file(dir, "no LoRA tensors in adapter_model.safetensors");
        }
        pc.check(layers, as.keySet());
        for (String t : toSave) {
            if (saved.keySet().stream().map(k -> k.substring(0, Math.max(0, k.lastIndexOf('.'))))
                    .noneMatch(o -> o.equals(t) || o.endsWith("." + t))) {
                throw LoraException.file(cfgFile, "modules_to_save: '" + Printable.of(t) + "' has no tensors in"
                        + " adapter_model.safetensors");
            }
        }
        // 3. fuse complete q/k/v triples, keep a subset as slices; fold each part's scaling into B
        LoraScaling common = new LoraScaling(r, alpha, rslora);
        LinkedHashMap<String, LoraPair> fused = new LinkedHashMap<>();
        for (Map.Entry<String, LoraPair[]> e : parts.entrySet()) {
            LoraPair[] ps = e.getValue();
            double[] s = scales.get(e.getKey());
            boolean complete = Arrays.stream(ps).allMatch(p -> p != null);
            if (complete) {
                fused.put(e.getKey(), fuse(e.getKey(), ps, s, common.value(), dir));
            } else {
                for (int k = 0; k < ps.length; k++) {
                    if (ps[k] != null) {
                        fused.put(new QkvSlice(e.getKey(), k).name(),
                                fuse(e.getKey(), new LoraPair[] {ps[k]}, new double[] {s[k]}, common.value(), dir));
                    }
                }
            }
        }
        // 4. one rank for all: zero-pad
        int rank = fused.values().stream().mapToInt(LoraPair::rank).max().orElse(r);
        LinkedHashMap<String, LoraPair> padded = new LinkedHashMap<>();
        fused.forEach((m, p) -> padded.put(m, pad(p, rank)));
        LinkedHashMap<String, HostTensor> modules = new LinkedHashMap<>();
        LinkedHashMap<String, HostTensor> savedV2 = new LinkedHashMap<>();
        saved.forEach((k, t) -> (isDa3(k) ? modules : savedV2).put(k, t));
        if (!savedV2.isEmpty()) {
            modules.putAll(HfNames.toOfficial(savedV2, dir.resolve("adapter_model.safetensors")));
        }
        return new Imported(new AdapterSet(padded), common.atRank(rank), modules);
    }

    /**
     * Stacks the parts' A, places each B (times its scaling / common) in its row block and column
     * block, and concatenates DoRA magnitudes (all parts DoRA or none).
     */
    static LoraPair fuse(String module, LoraPair[] ps, double[] s, double common, Path dir) {
        int in = -1;
        int out = -1;
        int rank = 0;
        long[] aShape = null;
        long[] bTail = null;
        for (LoraPair p : ps) {
            if (in >= 0 && (p.inSize() != in || p.outFeatures() != out)) {
                throw LoraException.file(dir, module + ": query/key/value adapters differ in shape");
            }
            in = p.inSize();
            out = p.outFeatures();
            rank += p.rank();
            aShape = p.a().shape();
            bTail = p.b().shape();
        }
        int rows = out * ps.length;
        float[] a = new float[rank * in];
        float[] b = new float[rows * rank];
        float[] m = ps[0].dora() ? new float[rows] : null;
        int col = 0;
        for (int k = 0; k < ps.length; k++) {
            LoraPair p = ps[k];
            System.arraycopy(p.a().data(), 0, a, col * in, p.rank() * in);
            double f = s[k] / common;
            float[] pb = p.b().data();
            for (int o = 0; o < out; o++) {
                for (int j = 0; j < p.rank(); j++) {
                    b[(k * out + o) * rank + col + j] = f == 1 ? pb[o * p.rank() + j] : (float) (f * pb[o * p.rank() + j]);
                }
            }
            if (m != null) {
                System.arraycopy(p.magnitude().data(), 0, m, k * out, out);
            }
            col += p.rank();
        }
        long[] as = aShape.clone();
        as[0] = rank;
        long[] bsh = bTail.clone();
        bsh[0] = rows;
        bsh[1] = rank;
        return new LoraPair(new HostTensor(as, a), new HostTensor(bsh, b),
                m == null ? null : new HostTensor(new long[] {rows}, m));
    }

    /** Zero rows of A and zero columns of B up to {@code rank}: the same update. */
    static LoraPair pad(LoraPair p, int rank) {
        if (p.rank() == rank) {
            return p;
        }
        int r = p.rank();
        int in = p.inSize();
        int out = p.outFeatures();
        float[] a = Arrays.copyOf(p.a().data(), rank * in);
        float[] b = new float[out * rank];
        for (int o = 0; o < out; o++) {
            System.arraycopy(p.b().data(), o * r, b, o * rank, r);
        }
        long[] as = p.a().shape().clone();
        as[0] = rank;
        long[] bs = p.b().shape().clone();
        bs[1] = rank;
        return new LoraPair(new HostTensor(as, a), new HostTensor(bs, b), p.magnitude());
    }
}
