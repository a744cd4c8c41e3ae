package com.loratool.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.loratool.LoraException;
import com.loratool.io.Json;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Where the time goes, from a PyTorch profiler trace (the Chrome-trace JSON libtorch writes through
 * DJL's {@code JniUtils.stopProfile}): complete events ({@code "ph": "X"}, {@code ts}/{@code dur} in
 * microseconds) nest on one thread, so an op's self time is its duration minus its children's.
 * Ops are also grouped (matmul, convolution, attention softmax, GELU, layer norm, interpolation,
 * copies, element-wise, other), and split into forward and backward (inside autograd's
 * {@code evaluate_function} events).
 */
public final class ProfileSummary {
    /** Self time and calls of one op name. */
    public record Op(String name, long calls, double selfUs, double backwardUs) { }

    private final Map<String, double[]> ops = new LinkedHashMap<>(); // name -> {calls, self, selfInBackward}
    private double totalUs;
    private double backwardUs;

    private record Event(String name, double ts, double dur, long tid) { }

    public static ProfileSummary read(Path trace) {
        JsonNode root;
        try {
            root = Json.JSON.readTree(trace.toFile());
        } catch (IOException e) {
            throw LoraException.file(trace, "not a profiler trace: " + e.getMessage(), e);
        }
        JsonNode events = root.isArray() ? root : root.path("traceEvents");
        List<Event> list = new ArrayList<>();
        for (JsonNode e : events) {
            if ("X".equals(e.path("ph").asText()) && e.has("dur")) {
                list.add(new Event(e.path("name").asText(), e.path("ts").asDouble(), e.path("dur").asDouble(),
                        e.path("tid").asLong()));
            }
        }
        return of(list);
    }

    private static ProfileSummary of(List<Event> events) {
        ProfileSummary s = new ProfileSummary();
        // parents first: earlier start, then longer duration
        events.sort(Comparator.comparingLong(Event::tid).thenComparingDouble(Event::ts)
                .thenComparing(Comparator.comparingDouble(Event::dur).reversed()));
        Deque<double[]> stack = new ArrayDeque<>(); // {end, self index}
        Deque<Event> open = new ArrayDeque<>();
        List<double[]> selfOf = new ArrayList<>();
        List<Boolean> inBackward = new ArrayList<>();
        long tid = Long.MIN_VALUE;
        for (int i = 0; i < events.size(); i++) {
            Event e = events.get(i);
            if (e.tid != tid) {
                stack.clear();
                open.clear();
                tid = e.tid;
            }
            while (!stack.isEmpty() && stack.peek()[0] <= e.ts + 1e-9) {
                stack.pop();
                open.pop();
            }
            boolean back = e.name.startsWith("autograd::engine::evaluate_function")
                    || open.stream().anyMatch(p -> p.name.startsWith("autograd::engine::evaluate_function"));
            if (stack.isEmpty()) {
                s.totalUs += e.dur;
                if (back) {
                    s.backwardUs += e.dur;
                }
            } else {
                selfOf.get((int) stack.peek()[1])[0] -= e.dur;
            }
            selfOf.add(new double[] {e.dur});
            inBackward.add(back);
            stack.push(new double[] {e.ts + e.dur, i});
            open.push(e);
        }
        for (int i = 0; i < events.size(); i++) {
            double[] acc = s.ops.computeIfAbsent(events.get(i).name, k -> new double[3]);
            double self = Math.max(0, selfOf.get(i)[0]);
            acc[0]++;
            acc[1] += self;
            if (inBackward.get(i)) {
                acc[2] += self;
            }
        }
        return s;
    }

    /** Wall time covered by top-level events, microseconds. */
    public double totalUs() {
        return totalUs;
    }

    public double backwardUs() {
        return backwardUs;
    }

    /** Ops by self time, largest first. */
    public List<Op> ops() {
        List<Op> out = new ArrayList<>();
        ops.forEach((k, v) -> out.add(new Op(k, (long) v[0], v[1], v[2])));
        out.sort(Comparator.comparingDouble(Op::selfUs).reversed());
        return out;
    }

    /** The group an op's self time is counted in. */
    static String group(String name) {
        String n = name.toLowerCase(Locale.ROOT);
        if (n.contains("conv")) {
            return "convolution";
        }
        if (n.matches("aten::(mm|addmm|bmm|baddbmm|matmul|linear|_mkldnn_mm|addmv|dot)") || n.contains("mkldnn_matmul")) {
            return "matmul";
        }
        if (n.contains("softmax")) {
            return "softmax";
        }
        if (n.contains("gelu")) {
            return "gelu";
        }
        if (n.contains("layer_norm")) {
            return "layer norm";
        }
        if (n.contains("upsample") || n.contains("interpolat") || n.contains("grid_sampl")) {
            return "interpolation";
        }
        if (n.matches("aten::(copy_|clone|contiguous|to|_to_copy|cat|stack|index_select|index|pad|constant_pad_nd|_reshape_alias)")) {
            return "copies";
        }
        if (n.matches("aten::(empty|empty_like|empty_strided|zeros|zeros_like|ones|ones_like|fill_|zero_|resize_)")) {
            return "allocation";
        }
        if (n.matches("aten::(add|add_|sub|sub_|mul|mul_|div|div_|relu|relu_|threshold_backward|sum|mean|square|pow|sqrt|rsqrt|neg|exp|clamp|where|addcmul_|addcdiv_|lerp_)")) {
            return "element-wise";
        }
        if (n.matches("aten::(view|reshape|as_strided|transpose|t|permute|expand|select|slice|unsqueeze|squeeze|_unsafe_view|resolve_conj|resolve_neg|alias|detach|narrow|split|chunk|unbind)")) {
            return "views (no data)";
        }
        if (n.startsWith("autograd::") || n.endsWith("backward0") || n.endsWith("backward1")) {
            return "autograd bookkeeping";
        }
        return "other";
    }

    /** Self time per group, largest first, microseconds. */
    public Map<String, Double> groups() {
        Map<String, Double> g = new LinkedHashMap<>();
        for (Op op : ops()) {
            g.merge(group(op.name()), op.selfUs(), Double::sum);
        }
        List<Map.Entry<String, Double>> e = new ArrayList<>(g.entrySet());
        e.sort(Map.Entry.<String, Double>comparingByValue().reversed());
        Map<String, Double> out = new LinkedHashMap<>();
        e.forEach(x -> out.put(x.getKey(), x.getValue()));
        return out;
    }

    /** A Markdown section: groups, then the {@code top} ops by self time. */
    public String markdown(String title, int top) {
        StringBuilder sb = new StringBuilder("## ").append(title).append("\n\n");
        double self = ops().stream().mapToDouble(Op::selfUs).sum();
        sb.append(String.format(Locale.ROOT, "Profiled %.1f ms (%.0f%% in backward). Self time per group:%n%n",
                totalUs / 1000, totalUs > 0 ? 100 * backwardUs / totalUs : 0));
        sb.append("| Group | ms | % |\n|---|---:|---:|\n");
        groups().forEach((k, v) -> sb.append(String.format(Locale.ROOT, "| %s | %.1f | %.1f |%n", k, v / 1000, self > 0 ? 100 * v / self : 0)));
        sb.append("\n| Op | calls | self ms | of which backward | % |\n|---|---:|---:|---:|---:|\n");
        ops().stream().limit(top).forEach(o -> sb.append(String.format(Locale.ROOT, "| `%s` | %d | %.1f | %.1f | %.1f |%n",
                o.name(), o.calls(), o.selfUs() / 1000, o.backwardUs() / 1000, self > 0 ? 100 * o.selfUs() / self : 0)));
        return sb.append('\n').toString();
    }
}
